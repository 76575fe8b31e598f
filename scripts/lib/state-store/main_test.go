package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func openStore(t *testing.T, path string, buckets ...string) (*Store, *httptest.Server) {
	t.Helper()
	store, err := Open(path, buckets, false, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(store.Handler())
	return store, srv
}

func do(t *testing.T, method, url string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func mustStatus(t *testing.T, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, want, body)
	}
}

func TestDataSurvivesARestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	store, srv := openStore(t, db, "state")
	resp, body := do(t, http.MethodPut, srv.URL+"/state/.pulumi/stacks/p/dev.json", []byte(`{"version":3}`), nil)
	mustStatus(t, resp, body, http.StatusOK)
	resp, body = do(t, http.MethodPut, srv.URL+"/other", nil, nil)
	mustStatus(t, resp, body, http.StatusOK)
	srv.Close()
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	store, srv = openStore(t, db, "state") // the bucket exists already: no error
	defer store.Close()
	defer srv.Close()
	resp, body = do(t, http.MethodGet, srv.URL+"/state/.pulumi/stacks/p/dev.json", nil, nil)
	mustStatus(t, resp, body, http.StatusOK)
	if string(body) != `{"version":3}` {
		t.Fatalf("after a restart the object reads %q", body)
	}
	resp, body = do(t, http.MethodGet, srv.URL+"/", nil, nil)
	mustStatus(t, resp, body, http.StatusOK)
	for _, name := range []string{"<Name>state</Name>", "<Name>other</Name>"} {
		if !strings.Contains(string(body), name) {
			t.Fatalf("bucket list lacks %s: %s", name, body)
		}
	}
}

// Copies while the database grows: gofakes3's own bolt CopyObject reads the source's hash from the
// memory map after a write that remaps it, which crashed the process; contents must never change
// under a reader either.
func TestCopiesAndReadsWhileTheDatabaseGrows(t *testing.T) {
	store, srv := openStore(t, filepath.Join(t.TempDir(), "state.db"), "state")
	defer store.Close()
	defer srv.Close()

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				body := bytes.Repeat([]byte(fmt.Sprintf("%d-%d;", w, i)), 8000+i*500)
				key := fmt.Sprintf("/state/w%d/obj", w)
				if err := check(http.MethodPut, srv.URL+key, body, nil, nil); err != nil {
					errs <- err
					return
				}
				sum := md5.Sum(body)
				etag := fmt.Sprintf("%q", hex.EncodeToString(sum[:]))
				var copied []byte
				if err := check(http.MethodPut, srv.URL+key+".bak", nil, map[string]string{"X-Amz-Copy-Source": "state" + strings.TrimPrefix(key, "/state")}, &copied); err != nil {
					errs <- err
					return
				}
				if !strings.Contains(string(copied), "<ETag>"+etag+"</ETag>") && !strings.Contains(string(copied), "<ETag>&#34;"+hex.EncodeToString(sum[:])+"&#34;</ETag>") {
					errs <- fmt.Errorf("copy of %s answered %s, want ETag %s", key, copied, etag)
					return
				}
				for _, k := range []string{key, key + ".bak"} {
					var got []byte
					if err := check(http.MethodGet, srv.URL+k, nil, nil, &got); err != nil {
						errs <- err
						return
					}
					if !bytes.Equal(got, body) {
						errs <- fmt.Errorf("%s: read %d bytes that differ from the %d written", k, len(got), len(body))
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// check is do for goroutines: it returns an error instead of failing the test.
func check(method, url string, body []byte, header map[string]string, out *[]byte) error {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, data)
	}
	if out != nil {
		*out = data
	}
	return nil
}

func TestChecksumOfWholeObjects(t *testing.T) {
	store, srv := openStore(t, filepath.Join(t.TempDir(), "state.db"), "state")
	defer store.Close()
	defer srv.Close()
	body := []byte(`{"checkpoint":true}`)
	resp, data := do(t, http.MethodPut, srv.URL+"/state/a.json", body, nil)
	mustStatus(t, resp, data, http.StatusOK)

	want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(body)))
	resp, data = do(t, http.MethodGet, srv.URL+"/state/a.json", nil, map[string]string{"X-Amz-Checksum-Mode": "ENABLED"})
	mustStatus(t, resp, data, http.StatusOK)
	if got := resp.Header.Get("X-Amz-Checksum-Crc32"); got != want || !bytes.Equal(data, body) {
		t.Fatalf("checksum %q (want %q), body %q", got, want, data)
	}
	if resp.Header.Get("ETag") == "" || resp.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
		t.Fatalf("headers lost: %v", resp.Header)
	}

	resp, data = do(t, http.MethodGet, srv.URL+"/state/a.json", nil, nil)
	mustStatus(t, resp, data, http.StatusOK)
	if got := resp.Header.Get("X-Amz-Checksum-Crc32"); got != "" {
		t.Fatalf("checksum %q without checksum mode", got)
	}
	resp, data = do(t, http.MethodGet, srv.URL+"/state/a.json", nil, map[string]string{"X-Amz-Checksum-Mode": "ENABLED", "Range": "bytes=0-3"})
	mustStatus(t, resp, data, http.StatusPartialContent)
	if got := resp.Header.Get("X-Amz-Checksum-Crc32"); got != "" || string(data) != `{"ch` {
		t.Fatalf("range read: checksum %q, body %q", got, data)
	}
	resp, data = do(t, http.MethodGet, srv.URL+"/state/missing.json", nil, map[string]string{"X-Amz-Checksum-Mode": "ENABLED"})
	mustStatus(t, resp, data, http.StatusNotFound)
	if !strings.Contains(string(data), "NoSuchKey") || resp.Header.Get("X-Amz-Checksum-Crc32") != "" {
		t.Fatalf("missing key: %v %s", resp.Header, data)
	}
}

func TestASecondStoreOnTheSameDatabaseFails(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	store, srv := openStore(t, db)
	defer store.Close()
	defer srv.Close()
	start := time.Now()
	_, err := Open(db, nil, false, log.New(io.Discard, "", 0))
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("second Open took %s", d)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	store, err := Open(filepath.Join(t.TempDir(), "state.db"), []string{"state"}, false, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- store.Serve(ctx, listener) }()
	resp, body := do(t, http.MethodGet, "http://"+listener.Addr().String()+"/", nil, nil)
	mustStatus(t, resp, body, http.StatusOK)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after the context was cancelled")
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "state-store dev") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run(context.Background(), []string{"extra"}, &out, &errOut); code != 2 {
		t.Fatalf("an argument: exit %d", code)
	}
	if code := run(context.Background(), []string{"-nope"}, &out, &errOut); code != 2 {
		t.Fatalf("an unknown flag: exit %d", code)
	}
}

func TestStopsByItselfAfterItsTTL(t *testing.T) {
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	start := time.Now()
	code := run(context.Background(), []string{"-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "state.db"), "-ttl", "300ms"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond || elapsed > 10*time.Second {
		t.Fatalf("stopped after %s, want about 300ms", elapsed)
	}
	if !strings.Contains(errOut.String(), "stopped") {
		t.Fatalf("no stop logged: %s", errOut.String())
	}
}
