package cloud

import (
	"context"
	"encoding/json"
	"sync"
)

// allPages fetches every page of a listing and returns the items in page
// order; the first error, in page order, wins. Page 1 tells how many pages
// there are. When the same listing (key) was read before by this client,
// its page count then is the hint: pages 1..hint go out at once, which
// saves a round trip when the count has not grown (typically, the preview
// of a destructive call and then the confirmed call). Otherwise, and for
// pages past the hint, the rest follow page 1 concurrently (bounded). Pages
// past the end come back empty and are dropped.
func allPages[T any](ctx context.Context, c *Client, action, region, key string, size int, fetch func(number int) ([]T, int, error)) ([]T, error) {
	type page struct {
		items []T
		total int
		err   error
	}
	hint := 0
	if key != "" {
		hint = c.pageHints.get(key)
	}
	pages := make([]page, max(hint, 1))
	// Page 1 is reported with the others once the page count is known.
	progress := newTally(ctx, action, region, hint)
	get := func(i int) {
		pages[i].items, pages[i].total, pages[i].err = fetch(i + 1)
		progress.step()
	}
	c.forEach(len(pages), get)
	if pages[0].err != nil {
		return nil, pages[0].err
	}
	n := 1
	if len(pages[0].items) > 0 {
		n = max(1, (pages[0].total+size-1)/size)
	}
	if key != "" {
		c.pageHints.set(key, n)
	}
	progress.setTotal(max(n, len(pages)))
	if n > len(pages) {
		fetched := len(pages)
		pages = append(pages, make([]page, n-fetched)...)
		c.forEach(n-fetched, func(i int) { get(fetched + i) })
	}
	var items []T
	for _, p := range pages[:n] {
		if p.err != nil {
			return nil, p.err
		}
		items = append(items, p.items...)
	}
	return items, nil
}

// pageHints remembers how many pages each listing had when last read.
type pageHints struct {
	mu    sync.Mutex
	pages map[string]int
}

// maxPageHints bounds the memory the hints take: past it they start over.
const maxPageHints = 1024

func (h *pageHints) get(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pages[key]
}

func (h *pageHints) set(key string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n <= 1 {
		delete(h.pages, key)
		return
	}
	if h.pages == nil || len(h.pages) >= maxPageHints {
		h.pages = map[string]int{}
	}
	h.pages[key] = n
}

// listingKey names a listing by its action and filters (not its paging).
func listingKey(action string, filters ...any) string {
	b, err := json.Marshal(filters)
	if err != nil {
		return "" // never hinted: every key is a fresh listing
	}
	return action + string(b)
}
