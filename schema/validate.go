package schema

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Local validation of tool inputs. The rules follow the ECS API
// documentation, with their limits from limits.go, and are written
// independently of the emulator's, so that each checks the other. They
// repeat the schema's constraints, because some clients drop them, and add
// what a schema cannot say portably (Unicode letters, prefixes,
// duplicates, pairs of arguments).
//
// Go zero values stand for absent arguments: every optional argument is
// omitempty, so an explicit pageSize 0, keyPairName "" or tags [] reads the
// same as leaving it out. Bind cannot tell them apart either, and treating
// them as absent is the lenient reading.
//
// Each Validate returns the first fault, in argument order, as an *Error.

// The regular expressions are compiled at start-up, which every start of
// the server pays for: they are kept small (a counted repetition such as
// {1,64} compiles into one state per count), and the fingerprint's, which
// is large and seldom needed, is compiled on first use.
var (
	// An instance ID is "i-" and up to maxInstanceIDChars lower-case
	// letters and digits.
	instanceIDRe    = regexp.MustCompile(`^i-[a-z0-9]+$`)
	resourceGroupRe = regexp.MustCompile(`^rg-[a-z0-9]+$`)
	// An MD5 fingerprint is 16 hex pairs; 20 are let through too, since the
	// API documentation's own examples have 20.
	fingerprintRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){15}((:[0-9A-Fa-f]{2}){4})?$`)
	})
)

// instanceStatuses are the values of describe_instances' status.
var instanceStatuses = []string{"Pending", "Running", "Starting", "Stopping", "Stopped"}

// Validate accepts everything: describe_regions takes no arguments (Bind
// refuses any). It exists so that every input type checks itself.
func (in *DescribeRegionsInput) Validate() error { return nil }

// Validate checks describe_instances' arguments.
func (in *DescribeInstancesInput) Validate() error {
	if err := checkRegionID(in.RegionID); err != nil {
		return err
	}
	if n := len(in.InstanceIDs); n > DescribeInstancesIDsBatch {
		return errorf(codeInvalidParameter, "instanceIds has %d IDs; describe_instances takes at most %d per call: split them into several calls, or leave instanceIds out and filter by keyPairName or status", n, DescribeInstancesIDsBatch)
	}
	for i, id := range in.InstanceIDs {
		if err := checkInstanceID(i, id); err != nil {
			return err
		}
	}
	if err := checkFilterName("keyPairName", in.KeyPairName); err != nil {
		return err
	}
	if in.Status != "" && !slices.Contains(instanceStatuses, in.Status) {
		return errorf(codeStatus, "status %s is not an instance status: give one of %s (case-sensitive), or leave status out", quote(in.Status), strings.Join(instanceStatuses, ", "))
	}
	if err := checkPage(in.PageNumber, in.PageSize, DescribeInstancesPageSize, "instances"); err != nil {
		return err
	}
	return checkNextToken(in.NextToken, in.PageNumber)
}

// checkNextToken refuses a nextToken given with pageNumber and pageSize:
// the two ways of paging do not mix.
func checkNextToken(token string, pageNumber int) error {
	if token != "" && pageNumber > 0 {
		return errorf(codeInvalidParameter, "give nextToken or pageNumber and pageSize, not both: nextToken continues a result that was truncated")
	}
	return nil
}

// Validate checks describe_key_pairs' arguments.
func (in *DescribeKeyPairsInput) Validate() error {
	if err := checkRegions(in.RegionID, in.RegionIDs); err != nil {
		return err
	}
	if err := checkFilterName("keyPairName", in.KeyPairName); err != nil {
		return err
	}
	if err := checkFingerprint(in.KeyPairFingerPrint); err != nil {
		return err
	}
	if err := checkPage(in.PageNumber, in.PageSize, DescribeKeyPairsPageSize, "key pairs"); err != nil {
		return err
	}
	if in.RegionIDs != nil && in.PageNumber > 0 {
		return errorf(codeInvalidParameter, "pageNumber and pageSize page one region: with regionIds, omit them; a result holds as many key pairs as fit, and nextToken continues")
	}
	if in.InUse != nil && in.PageNumber > 0 {
		return errorf(codeInvalidParameter, "inUse filters the whole listing: omit pageNumber and pageSize "+
			"(a result holds as many key pairs as fit, and nextToken continues)")
	}
	if err := checkNextToken(in.NextToken, in.PageNumber); err != nil {
		return err
	}
	if err := checkResourceGroupID(in.ResourceGroupID); err != nil {
		return err
	}
	return checkTagFilters(in.Tags)
}

// Validate checks create_key_pair's arguments.
func (in *CreateKeyPairInput) Validate() error {
	if err := checkRegionID(in.RegionID); err != nil {
		return err
	}
	// The name also becomes the private key's file name, <name>.pem in the
	// private key directory. The name rule is what keeps that safe: it
	// admits no '/', '\\', '.', NUL or other control character, so a name
	// cannot climb out of the directory (".." or "a/../../x"), hide the
	// file (".x") or change its extension. The tools package must still
	// create the file exclusively, and note that ':' is allowed: harmless
	// on Unix, an alternate data stream on Windows.
	if err := checkKeyPairName(in.KeyPairName, false); err != nil {
		return err
	}
	if err := checkResourceGroupID(in.ResourceGroupID); err != nil {
		return err
	}
	return checkTags(in.Tags)
}

// Validate checks import_key_pair's arguments. It never puts any of the
// public key body in an error beyond its key type.
func (in *ImportKeyPairInput) Validate() error {
	if err := checkRegions(in.RegionID, in.RegionIDs); err != nil {
		return err
	}
	if err := checkKeyPairName(in.KeyPairName, true); err != nil {
		return err
	}
	if err := checkPublicKeyBody(in.PublicKeyBody); err != nil {
		return err
	}
	if err := checkResourceGroupID(in.ResourceGroupID); err != nil {
		return err
	}
	return checkTags(in.Tags)
}

// Validate checks delete_key_pairs' arguments. A name with '*' is refused
// first, with its own advice (the tool takes exact names, not patterns);
// then each name must meet the import rule, the widest a key pair name
// can be.
func (in *DeleteKeyPairsInput) Validate() error {
	if err := checkRegionID(in.RegionID); err != nil {
		return err
	}
	switch n := len(in.KeyPairNames); {
	case in.KeyPairNames == nil:
		return errorf(codeMissingParameter, "keyPairNames is required: list the exact names of the key pairs to delete, 1-%d (describe_key_pairs lists them)", MaxListItems)
	case n == 0:
		return errorf(codeInvalidParameter, "keyPairNames is empty: list the exact names of the key pairs to delete, 1-%d (describe_key_pairs lists them)", MaxListItems)
	case n > MaxListItems:
		return errorf(codeInvalidParameter, "keyPairNames has %d names; delete_key_pairs takes at most %d per call: split them into several calls", n, MaxListItems)
	}
	// Names are checked against the API's name rule (the import rule, the
	// widest) before anything else: a name no rule allows names no key
	// pair, and could only carry text meant to mislead.
	seen := make(map[string]int, len(in.KeyPairNames))
	for i, name := range in.KeyPairNames {
		field := "keyPairNames[" + strconv.Itoa(i) + "]"
		if strings.Contains(name, "*") {
			return errorf(codeKeyPairName, "%s %s contains '*': delete_key_pairs takes exact names, not wildcards; call describe_key_pairs with keyPairName %s to list the names it matches, then pass those names here", field, quote(name), quote(name))
		}
		if err := checkKeyPairNameField(field, name, true); err != nil {
			return err
		}
		if j, dup := seen[name]; dup {
			return errorf(codeInvalidParameter, "keyPairNames lists %s twice (keyPairNames[%d] and [%d]): give each name once", quote(name), j, i)
		}
		seen[name] = i
	}
	return nil
}

// Validate checks the arguments of attach_key_pair and detach_key_pair.
func (in *BindKeyPairInput) Validate() error {
	if err := checkRegionID(in.RegionID); err != nil {
		return err
	}
	// The import rule: the widest a key pair name can be, since imported
	// names may contain '.'.
	if err := checkKeyPairName(in.KeyPairName, true); err != nil {
		return err
	}
	return checkInstanceList(in.InstanceIDs, true)
}

// Validate checks reboot_instances' arguments.
func (in *RebootInstancesInput) Validate() error {
	if err := checkRegionID(in.RegionID); err != nil {
		return err
	}
	return checkInstanceList(in.InstanceIDs, true)
}

// Validate checks rotate_key_pair's arguments. Both names follow the
// import rule, the widest: whether toKeyPairName may hold a '.' depends on
// whether that key pair exists already, which only the plan finds out
// (tools/rotate_key_pair.go refuses the '.' in a name it would create).
func (in *RotateKeyPairInput) Validate() error {
	if err := checkRegionID(in.RegionID); err != nil {
		return err
	}
	if err := checkKeyPairNameField("fromKeyPairName", in.FromKeyPairName, true); err != nil {
		return err
	}
	if err := checkKeyPairNameField("toKeyPairName", in.ToKeyPairName, true); err != nil {
		return err
	}
	if in.FromKeyPairName == in.ToKeyPairName {
		return errorf(codeInvalidParameter, "fromKeyPairName and toKeyPairName are both %s: a rotation replaces one key pair with another", quote(in.ToKeyPairName))
	}
	if in.PublicKeyBody != "" {
		if err := checkPublicKeyBody(in.PublicKeyBody); err != nil {
			return err
		}
	}
	if in.InstanceIDs != nil {
		return checkInstanceList(in.InstanceIDs, false)
	}
	return nil
}

// checkInstanceList checks a list of instance IDs of a tool that acts on
// instances: 1 to MaxListItems of them, each once.
func checkInstanceList(ids []string, required bool) error {
	switch n := len(ids); {
	case ids == nil && required:
		return errorf(codeMissingParameter, "instanceIds is required: list the IDs of the instances, 1-%d, e.g. [\"i-bp1...\"] (describe_instances lists them)", MaxListItems)
	case n == 0 && ids != nil:
		return errorf(codeInvalidParameter, "instanceIds is empty: list the IDs of the instances, 1-%d (describe_instances lists them)", MaxListItems)
	case n > MaxListItems:
		return errorf(codeInvalidParameter, "instanceIds has %d IDs; this tool takes at most %d per call: split them into several calls", n, MaxListItems)
	}
	seen := make(map[string]int, len(ids))
	for i, id := range ids {
		if err := checkInstanceID(i, id); err != nil {
			return err
		}
		if j, dup := seen[id]; dup {
			return errorf(codeInvalidParameter, "instanceIds lists %s twice (instanceIds[%d] and [%d]): give each instance once", quote(id), j, i)
		}
		seen[id] = i
	}
	return nil
}

// checkRegionID is CheckRegionID as an error, so that a nil *Error is a
// nil error.
func checkRegionID(id string) error {
	if err := CheckRegionID(id); err != nil {
		return err
	}
	return nil
}

// checkKeyPairName applies the CreateKeyPair rule, or with dot the
// ImportKeyPair rule: 2-128 characters, first a letter, then letters,
// digits, ':', '_', '-' (and '.'); not starting with http:// or https://.
// Letters and digits are Unicode ones (the Chinese documentation allows
// Chinese characters); digits are decimal digits.
func checkKeyPairName(name string, dot bool) error {
	return checkKeyPairNameField("keyPairName", name, dot)
}

// checkKeyPairNameField is checkKeyPairName for the argument named field.
func checkKeyPairNameField(field, name string, dot bool) error {
	rule := fmt.Sprintf("(%d-%d characters: letters, digits, ':', '_', '-')", KeyPairNameMinLength, KeyPairNameMaxLength)
	if dot {
		rule = fmt.Sprintf("(%d-%d characters: letters, digits, ':', '_', '-', '.')", KeyPairNameMinLength, KeyPairNameMaxLength)
	}
	if name == "" {
		return errorf(codeMissingParameter, "%s is required: give the key pair's name %s", field, rule)
	}
	q := quote(name)
	if !utf8.ValidString(name) {
		return errorf(codeKeyPairName, "%s %s is not valid UTF-8 text %s", field, q, rule)
	}
	if hasAnyPrefix(name, keyPairNameBadPrefixes) {
		return errorf(codeKeyPairName, "%s %s must not start with %s %s", field, q, strings.Join(keyPairNameBadPrefixes, " or "), rule)
	}
	if n := utf8.RuneCountInString(name); n < KeyPairNameMinLength || n > KeyPairNameMaxLength {
		return errorf(codeKeyPairName, "%s %s has %d characters; it must have %d-%d %s", field, q, n, KeyPairNameMinLength, KeyPairNameMaxLength, rule)
	}
	for i, r := range name {
		if i == 0 {
			if !unicode.IsLetter(r) {
				return errorf(codeKeyPairName, "%s %s must start with a letter %s", field, q, rule)
			}
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ':' || r == '_' || r == '-' || (dot && r == '.') {
			continue
		}
		if r == '.' {
			return errorf(codeKeyPairName, "%s %s must not contain '.' %s; '.' is allowed only in imported key pair names", field, q, rule)
		}
		return errorf(codeKeyPairName, "%s %s must not contain %s %s", field, q, strconv.QuoteRune(r), rule)
	}
	return nil
}

// checkRegions checks the region arguments of a tool that acts in one
// region or several: exactly one of regionId and regionIds; regionIds
// holds region IDs, each once, or is ["*"] for every region.
func checkRegions(regionID string, regionIDs []string) error {
	switch {
	case regionID != "" && regionIDs != nil:
		return errorf(codeInvalidParameter, "give regionId or regionIds, not both: regionId for one region, regionIds for several (or [\"*\"] for all)")
	case regionIDs == nil:
		if regionID == "" {
			return errorf(codeMissingParameter, "regionId or regionIds is required: regionId for one region (e.g. cn-hangzhou), regionIds for several, or [\"*\"] for every region (describe_regions lists them)")
		}
		return checkRegionID(regionID)
	case len(regionIDs) == 0:
		return errorf(codeInvalidParameter, "regionIds is empty: list region IDs, or give [\"*\"] for every region")
	case len(regionIDs) > MaxRegionIDs:
		return errorf(codeInvalidParameter, "regionIds has %d entries; give at most %d, or [\"*\"] for every region", len(regionIDs), MaxRegionIDs)
	}
	seen := map[string]int{}
	for i, id := range regionIDs {
		field := "regionIds[" + strconv.Itoa(i) + "]"
		switch {
		case id == AllRegions && len(regionIDs) > 1:
			return errorf(codeInvalidParameter, "%s is \"*\", which means every region: give [\"*\"] alone, or list region IDs", field)
		case id == AllRegions:
			continue
		case !ValidRegionID(id):
			return errorf(CodeInvalidRegionID, "%s %s is not a region ID: region IDs are %s (describe_regions lists them)", field, quote(id), RegionIDRule)
		}
		if j, dup := seen[id]; dup {
			return errorf(codeInvalidParameter, "regionIds lists %s twice (regionIds[%d] and [%d]): give each region once", quote(id), j, i)
		}
		seen[id] = i
	}
	return nil
}

// checkFilterName checks a name used as a search filter: anything up to
// 128 characters, since the cloud only compares it.
func checkFilterName(field, v string) error {
	if !utf8.ValidString(v) {
		return errorf(codeInvalidParameter, "%s %s is not valid UTF-8 text", field, quote(v))
	}
	if n := utf8.RuneCountInString(v); n > KeyPairNameMaxLength {
		return errorf(codeInvalidParameter, "%s %s has %d characters; key pair names have at most %d", field, quote(v), n, KeyPairNameMaxLength)
	}
	return nil
}

func checkInstanceID(i int, id string) error {
	if len(id) > len("i-")+maxInstanceIDChars || !instanceIDRe.MatchString(id) {
		return errorf(codeInstanceIDs, "instanceIds[%d] %s is not an instance ID: instance IDs look like i-bp1abcdefghij (\"i-\", then lower-case letters and digits); describe_instances lists them", i, quote(id))
	}
	return nil
}

func checkResourceGroupID(id string) error {
	if id == "" {
		return nil
	}
	if len(id) > ResourceGroupIDMaxLength || !resourceGroupRe.MatchString(id) {
		return errorf(codeInvalidParameter, "resourceGroupId %s is not a resource group ID: it is \"rg-\" then lower-case letters and digits, at most %d characters, e.g. rg-aek2xl5qajpkquq; leave it out for the default group", quote(id), ResourceGroupIDMaxLength)
	}
	return nil
}

func checkFingerprint(fp string) error {
	if fp == "" || fingerprintRe().MatchString(fp) {
		return nil
	}
	const how = "give the MD5 fingerprint, 16 hex pairs joined by ':' (e.g. 2b:6e:9f:...:0c), as ssh-keygen -l -E md5 -f key.pub prints it after 'MD5:'"
	upper := strings.ToUpper(fp)
	switch {
	case strings.HasPrefix(upper, "MD5:"):
		return errorf(codeInvalidParameter, "keyPairFingerPrint %s must not start with 'MD5:': drop the prefix and %s", quote(fp), how)
	case strings.HasPrefix(upper, "SHA256:") || strings.HasPrefix(upper, "SHA1:"):
		return errorf(codeInvalidParameter, "keyPairFingerPrint %s is not an MD5 fingerprint, which is what ECS keeps: %s", quote(fp), how)
	}
	return errorf(codeInvalidParameter, "keyPairFingerPrint %s is malformed: %s", quote(fp), how)
}

// checkPage checks a pageNumber and pageSize pair; 0 is absent.
func checkPage(number, size, maxSize int, what string) error {
	if number < 0 {
		return errorf(codeInvalidParameter, "pageNumber %d is out of range: pages count from 1; or omit pageNumber and pageSize to get every match", number)
	}
	if size < 0 || size > maxSize {
		return errorf(codeInvalidParameter, "pageSize %d is out of range: give 1-%d %s per page, or omit pageNumber and pageSize to get every match", size, maxSize, what)
	}
	if (number == 0) != (size == 0) {
		given := "pageNumber"
		if number == 0 {
			given = "pageSize"
		}
		return errorf(codeInvalidParameter, "give both pageNumber and pageSize for one page, or neither for all matches (only %s was given)", given)
	}
	return nil
}

// checkTags checks the tags of a new key pair.
func checkTags(tags []Tag) error {
	if n := len(tags); n > MaxTags {
		return errorf(codeTagQuota, "tags has %d tags; a key pair takes at most %d: drop some", n, MaxTags)
	}
	for i, t := range tags {
		field := "tags[" + strconv.Itoa(i) + "]"
		if err := checkTagKey(field, t.Key); err != nil {
			return err
		}
		k, v := field+".key", field+".value"
		switch {
		case hasAnyPrefix(t.Key, tagKeyReservedPrefixes):
			return errorf(codeTagKey, "%s %s must not start with %s (those are reserved for the system): choose another key", k, quote(t.Key), orList(tagKeyReservedPrefixes))
		case containsAny(t.Key, tagForbidden):
			return errorf(codeTagKey, "%s %s must not contain %s", k, quote(t.Key), orList(tagForbidden))
		}
		if err := checkTagValue(field, t.Value); err != nil {
			return err
		}
		switch {
		case hasAnyPrefix(t.Value, tagValueReservedPrefixes):
			return errorf(codeTagValue, "%s %s must not start with %s (reserved for the system)", v, quote(t.Value), orList(tagValueReservedPrefixes))
		case containsAny(t.Value, tagForbidden):
			return errorf(codeTagValue, "%s %s must not contain %s", v, quote(t.Value), orList(tagForbidden))
		}
	}
	return checkTagDuplicates(tags)
}

// checkTagFilters checks tags used to find key pairs: only what the
// lookup needs, since a filter names tags that already exist.
func checkTagFilters(tags []Tag) error {
	if n := len(tags); n > MaxTags {
		return errorf(codeInvalidParameter, "tags has %d tags; filter by at most %d", n, MaxTags)
	}
	for i, t := range tags {
		field := "tags[" + strconv.Itoa(i) + "]"
		if err := checkTagKey(field, t.Key); err != nil {
			return err
		}
		if err := checkTagValue(field, t.Value); err != nil {
			return err
		}
	}
	return checkTagDuplicates(tags)
}

func checkTagKey(field, key string) error {
	k := field + ".key"
	switch {
	case key == "":
		return errorf(codeTagKey, "%s is empty: a tag key has 1-%d characters", k, TagKeyMaxLength)
	case !utf8.ValidString(key):
		return errorf(codeTagKey, "%s %s is not valid UTF-8 text", k, quote(key))
	case utf8.RuneCountInString(key) > TagKeyMaxLength:
		return errorf(codeTagKey, "%s %s has %d characters; a tag key has at most %d", k, quote(key), utf8.RuneCountInString(key), TagKeyMaxLength)
	}
	return nil
}

func checkTagValue(field, value string) error {
	v := field + ".value"
	switch {
	case !utf8.ValidString(value):
		return errorf(codeTagValue, "%s %s is not valid UTF-8 text", v, quote(value))
	case utf8.RuneCountInString(value) > TagValueMaxLength:
		return errorf(codeTagValue, "%s %s has %d characters; a tag value has at most %d", v, quote(value), utf8.RuneCountInString(value), TagValueMaxLength)
	}
	return nil
}

func checkTagDuplicates(tags []Tag) error {
	seen := make(map[string]int, len(tags))
	for i, t := range tags {
		if j, dup := seen[t.Key]; dup {
			return errorf(codeDuplicateTagKey, "tags list the key %s twice (tags[%d] and tags[%d]): give each key once", quote(t.Key), j, i)
		}
		seen[t.Key] = i
	}
	return nil
}

// Public keys.
//
// The checks stop at the surface: one line, a supported type, base64 key
// data whose header names the same type. Whether the key itself is sound is
// the cloud's judgement. No message ever quotes the body: at most it names
// a key type from the lists below, which are constants. A model that pastes
// a private key must learn that it did, without the key being echoed back
// into the transcript once more.

// supportedKeyTypes are the key types ImportKeyPair accepts.
var supportedKeyTypes = []string{"ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"}

const (
	keyLineForm    = "one OpenSSH public key line, '<type> <base64> [comment]' (the contents of a .pub file)"
	supportedTypes = "ssh-rsa, ssh-dss, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 or ecdsa-sha2-nistp521"
	makeSupported  = "create an ECDSA or RSA key instead, e.g. ssh-keygen -t ecdsa -b 256 or ssh-keygen -t rsa -b 4096, and import its .pub file"
)

// unsupportedKeyTypes are key types people have that ECS does not take,
// with what to do instead.
var unsupportedKeyTypes = map[string]string{
	"ssh-ed25519":                              "ECS does not support ssh-ed25519 keys: " + makeSupported,
	"ssh-ed448":                                "ECS does not support ssh-ed448 keys: " + makeSupported,
	"sk-ssh-ed25519@openssh.com":               "ECS does not support security-key (FIDO) keys: " + makeSupported,
	"sk-ecdsa-sha2-nistp256@openssh.com":       "ECS does not support security-key (FIDO) keys: " + makeSupported,
	"ssh-rsa-cert-v01@openssh.com":             "this is an OpenSSH certificate, which ECS does not take: import the plain public key (the .pub file without -cert)",
	"ssh-dss-cert-v01@openssh.com":             "this is an OpenSSH certificate, which ECS does not take: import the plain public key (the .pub file without -cert)",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com": "this is an OpenSSH certificate, which ECS does not take: import the plain public key (the .pub file without -cert)",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com": "this is an OpenSSH certificate, which ECS does not take: import the plain public key (the .pub file without -cert)",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com": "this is an OpenSSH certificate, which ECS does not take: import the plain public key (the .pub file without -cert)",
	"ssh-ed25519-cert-v01@openssh.com":         "this is an OpenSSH certificate for an ssh-ed25519 key, and ECS supports neither: " + makeSupported,
}

// knownKeyType reports whether t is a key type name from the lists above,
// and so safe to name in a message.
func knownKeyType(t string) bool {
	_, unsupported := unsupportedKeyTypes[t]
	return unsupported || slices.Contains(supportedKeyTypes, t)
}

func checkPublicKeyBody(body string) error {
	line := strings.TrimSpace(body)
	if line == "" {
		return errorf(codeMissingParameter, "publicKeyBody is required: give %s", keyLineForm)
	}
	// Upper-cased once, for every marker below; the private key check
	// comes before the size check, so that a large private key is still
	// called what it is.
	upper := strings.ToUpper(body)
	if privateKeyMarked(upper) {
		return errorf(codePublicKeyBody, "publicKeyBody is a PRIVATE key, not a public key. A private key must never be uploaded or shared, and this one has now passed through the conversation: treat it as exposed and replace it. Give the PUBLIC key instead: %s, which ssh-keygen -y -f <private key file> prints", keyLineForm)
	}
	if len(body) > PublicKeyBodyMaxBytes {
		return errorf(codePublicKeyBody, "publicKeyBody has %d bytes; a public key line has at most %d: give %s", len(body), PublicKeyBodyMaxBytes, keyLineForm)
	}
	if !utf8.ValidString(body) {
		return errorf(codePublicKeyBody, "publicKeyBody is not valid UTF-8 text: give %s", keyLineForm)
	}
	switch {
	case strings.Contains(upper, "BEGIN SSH2 PUBLIC KEY"):
		return errorf(codePublicKeyBody, "publicKeyBody is in the RFC 4716 (SSH2) format; ECS takes %s. Convert it with ssh-keygen -i -f <file>", keyLineForm)
	case strings.Contains(upper, "BEGIN RSA PUBLIC KEY"):
		return errorf(codePublicKeyBody, "publicKeyBody is a PEM (PKCS#1) public key; ECS takes %s. Convert it with ssh-keygen -i -m PEM -f <file>", keyLineForm)
	case strings.Contains(upper, "BEGIN PUBLIC KEY"):
		return errorf(codePublicKeyBody, "publicKeyBody is a PEM (PKCS#8) public key; ECS takes %s. Convert it with ssh-keygen -i -m PKCS8 -f <file>", keyLineForm)
	case strings.ContainsAny(line, "\r\n"):
		return errorf(codePublicKeyBody, "publicKeyBody has several lines; give exactly %s, and import several keys one at a time", keyLineForm)
	}
	fields := strings.Fields(line)
	typ := fields[0]
	if msg, ok := unsupportedKeyTypes[typ]; ok {
		return errorf(codePublicKeyBody, "publicKeyBody is a %s key; %s", typ, msg)
	}
	if !slices.Contains(supportedKeyTypes, typ) {
		for _, f := range fields[1:] {
			if knownKeyType(f) {
				return errorf(codePublicKeyBody, "publicKeyBody has something before the key type %s (authorized_keys options?): give only %s", f, keyLineForm)
			}
		}
		return errorf(codePublicKeyBody, "publicKeyBody does not start with a supported key type: give %s, with type %s", keyLineForm, supportedTypes)
	}
	if len(fields) < 2 {
		return errorf(codePublicKeyBody, "publicKeyBody has the key type %s but no key data: give the whole line of the .pub file, '<type> <base64> [comment]'", typ)
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return errorf(codePublicKeyBody, "the key data after %s in publicKeyBody is not valid base64: copy the whole line of the .pub file unchanged", typ)
	}
	// The blob starts with its own key type, as a uint32 length and the
	// name: it must agree with the line's.
	if len(blob) < 4 || uint64(binary.BigEndian.Uint32(blob)) > uint64(len(blob)-4) {
		return errorf(codePublicKeyBody, "the key data after %s in publicKeyBody is not an SSH public key: copy the whole line of the .pub file unchanged", typ)
	}
	inner := string(blob[4 : 4+binary.BigEndian.Uint32(blob)])
	if inner != typ {
		if msg, ok := unsupportedKeyTypes[inner]; ok {
			return errorf(codePublicKeyBody, "the key data in publicKeyBody is a %s key although the line says %s; %s", inner, typ, msg)
		}
		if knownKeyType(inner) {
			return errorf(codePublicKeyBody, "the key data in publicKeyBody is a %s key although the line says %s: copy the whole line of the .pub file unchanged", inner, typ)
		}
		return errorf(codePublicKeyBody, "the key data after %s in publicKeyBody is not a %s key: copy the whole line of the .pub file unchanged", typ, typ)
	}
	return nil
}
