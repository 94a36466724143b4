package emulator

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Token paging (MaxResults and NextToken) for DescribeInstances.
//
// A NextToken is 32 lower-case hex characters, like the documented example
// "caeba0bbb2be03f84eb48b699f0a4883": the offset of the next item (4 bytes)
// and 12 bytes of a hash binding it to the filters of the listing it
// continues. The emulator keeps nothing per listing, so a token works in any
// emulator sharing the state, and a token that was not issued, or is reused
// with other filters, is refused rather than misread.

const (
	defaultMaxResults = 10
	maxMaxResults     = 100
)

// maxResults reads MaxResults as documented: from 1 to 100, a value below
// 10 (or none) meaning 10 and one above 100 meaning 100. It reports whether
// the parameter was given.
func (p params) maxResults() (int, bool, *apiError) {
	v, ok := p.lookup("MaxResults")
	if !ok || v == "" {
		return defaultMaxResults, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, true, errInvalidParameter("MaxResults", fmt.Sprintf("%s is not an integer", quoteClip(v)))
	}
	return min(max(n, defaultMaxResults), maxMaxResults), true, nil
}

// key is the filters in a canonical form: two requests with the same key
// list the same instances in the same order.
func (f instanceFilter) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "region=%q keyPair=%q status=%q", f.region, f.keyPair, f.status)
	if f.ids != nil {
		ids := slices.Clone(f.ids)
		slices.Sort(ids)
		fmt.Fprintf(&b, " ids=%q", ids)
	}
	for _, t := range f.tags {
		fmt.Fprintf(&b, " tag=%q:%q", t.Key, t.Value)
	}
	names := make([]string, 0, len(f.exact))
	for name := range f.exact {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, " %s=%q", name, f.exact[name])
	}
	return b.String()
}

func tokenMAC(filterKey string, offset uint32) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "ecs-emulator DescribeInstances NextToken\x00%s\x00%d", filterKey, offset)
	return h.Sum(nil)[:12]
}

// nextToken returns the token that continues a listing at offset.
func nextToken(filterKey string, offset int) string {
	b := make([]byte, 4, 16)
	binary.BigEndian.PutUint32(b, uint32(offset))
	return hex.EncodeToString(append(b, tokenMAC(filterKey, uint32(offset))...))
}

// tokenOffset returns the offset a token continues at, or an error saying
// why the token is refused.
func tokenOffset(filterKey, token string) (int, *apiError) {
	invalid := func(why string) *apiError {
		return errInvalidParameter("NextToken", fmt.Sprintf("%s %s; pass the NextToken of the previous answer, with the same filters", quoteClip(token), why))
	}
	b, err := hex.DecodeString(token)
	if err != nil || len(b) != 16 {
		return 0, invalid("is not a token this API issued")
	}
	offset := binary.BigEndian.Uint32(b)
	if string(b[4:]) != string(tokenMAC(filterKey, offset)) {
		return 0, invalid("was not issued for a listing with these filters")
	}
	return int(offset), nil
}
