package main

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// lockedBackend makes gofakes3's bolt backend safe to use. Its GetObject decodes the stored object
// with bson, which leaves the object's contents and hash pointing into bolt's memory map after the
// read transaction has ended; a later write may reuse those pages or grow the file and remap it, so
// a response could carry another object's bytes, and a CopyObject (which reads the source and then
// writes) crashes the process with SIGSEGV. Pulumi copies its stack checkpoint to a .bak object on
// every update, so this is hit at once. This wrapper runs one backend call at a time and copies
// what GetObject and HeadObject return while no write can run; nothing the caller keeps points into
// the memory map any more. One call at a time is plenty for a test store.
type lockedBackend struct {
	mu    sync.Mutex
	inner gofakes3.Backend
}

var _ gofakes3.Backend = (*lockedBackend)(nil)

func (b *lockedBackend) ListBuckets() ([]gofakes3.BucketInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.ListBuckets()
}

func (b *lockedBackend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.ListBucket(name, prefix, page)
}

func (b *lockedBackend) CreateBucket(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.CreateBucket(name)
}

func (b *lockedBackend) BucketExists(name string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.BucketExists(name)
}

func (b *lockedBackend) DeleteBucket(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.DeleteBucket(name)
}

func (b *lockedBackend) ForceDeleteBucket(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.ForceDeleteBucket(name)
}

func (b *lockedBackend) GetObject(bucket, key string, rangeRequest *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return detach(b.inner.GetObject(bucket, key, rangeRequest))
}

func (b *lockedBackend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return detach(b.inner.HeadObject(bucket, key))
}

func (b *lockedBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.DeleteObject(bucket, key)
}

func (b *lockedBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	// The body comes from the client: read it before taking the lock, so a slow upload does not
	// hold up every other request.
	body, err := gofakes3.ReadAll(input, size)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.PutObject(bucket, key, meta, bytes.NewReader(body), size, conditions)
}

func (b *lockedBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inner.DeleteMulti(bucket, keys...)
}

// CopyObject is gofakes3.CopyObject on the detached object: the backend's own reads the source's
// hash after the write that may remap the database.
func (b *lockedBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	src, err := detach(b.inner.GetObject(srcBucket, srcKey, nil))
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	body := src.Contents.(*detachedReader).data
	if _, err := b.inner.PutObject(dstBucket, dstKey, meta, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	return gofakes3.CopyObjectResult{ETag: gofakes3.FormatETag(src.Hash), LastModified: gofakes3.NewContentTime(time.Now())}, nil
}

// detach copies an object's contents and hash into memory of its own.
func detach(obj *gofakes3.Object, err error) (*gofakes3.Object, error) {
	if err != nil || obj == nil {
		return obj, err
	}
	out := *obj
	out.Hash = bytes.Clone(obj.Hash)
	var data []byte
	if obj.Contents != nil {
		data, err = io.ReadAll(obj.Contents)
		_ = obj.Contents.Close()
		if err != nil {
			return nil, err
		}
	}
	out.Contents = &detachedReader{Reader: bytes.NewReader(data), data: data}
	meta := make(map[string]string, len(obj.Metadata))
	for k, v := range obj.Metadata {
		meta[k] = v
	}
	out.Metadata = meta
	return &out, nil
}

// detachedReader is an object's contents, copied out of the database.
type detachedReader struct {
	*bytes.Reader
	data []byte
}

func (*detachedReader) Close() error { return nil }
