package github

import (
	"container/list"
	"net/http"
	"sync"
)

// etagCache keeps the last 200 answer of GET requests that carried an ETag, so the next
// request can be conditional and a 304 (free against the primary limit) can be served from
// it. Bounded in entries and in body size; least recently used entries go first.
type etagCache struct {
	mu         sync.Mutex
	maxEntries int
	maxBody    int
	ll         *list.List
	items      map[string]*list.Element
}

type cacheEntry struct {
	key    string
	etag   string
	header http.Header
	body   []byte
}

func newETagCache(maxEntries, maxBody int) *etagCache {
	return &etagCache{maxEntries: maxEntries, maxBody: maxBody, ll: list.New(), items: map[string]*list.Element{}}
}

// cacheKey: ETags vary with the representation, so the Accept header is part of the key.
func cacheKey(u, accept string) string { return u + "\x00" + accept }

func (c *etagCache) get(key string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*cacheEntry)
	}
	return nil
}

func (c *etagCache) put(e *cacheEntry) {
	if len(e.body) > c.maxBody {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.items[e.key] = c.ll.PushFront(e)
	for c.ll.Len() > c.maxEntries {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

func (c *etagCache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.Remove(el)
		delete(c.items, key)
	}
}

func (c *etagCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
