// Command registry is the referrers-capable OCI registry of the cosign
// interop tests: go-containerregistry's in-memory pkg/registry with
// WithReferrersSupport(true), on plain HTTP, plus a thin layer that makes
// its referrers side follow the OCI distribution spec 1.1 where ggcr
// v0.22.1 does not:
//
//   - PUT of a manifest with a `subject` answers `OCI-Subject: <digest>`
//     (ggcr sends no such header, so clients would fall back to the
//     referrers tag schema);
//   - GET /v2/<name>/referrers/<digest> gives each descriptor the
//     manifest's `artifactType` (ggcr puts config.mediaType there, which
//     for an artifact with an empty config is application/vnd.oci.empty.v1+json),
//     applies `?artifactType=` (answering `OCI-Filters-Applied: artifactType`),
//     lists descriptors sorted by digest, and answers an empty index, not
//     404, for a repository that does not exist.
//
// Built by scripts/cosign-peer (which writes go.mod); not part of sluice.
//
// Usage: registry [--addr 127.0.0.1:0] [--port-file PATH]
//
// Logs every request to stderr. Exits on SIGTERM or SIGINT.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

const (
	ociIndex    = "application/vnd.oci.image.index.v1+json"
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
)

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// manifestFields are the parts of a manifest that the referrers API reads.
type manifestFields struct {
	ArtifactType string `json:"artifactType"`
	Config       *struct {
		MediaType string `json:"mediaType"`
	} `json:"config"`
	Subject *struct {
		Digest string `json:"digest"`
	} `json:"subject"`
}

// splitPath splits /v2/<name>/<kind>/<ref> into name, kind and ref.
func splitPath(p string) (name, kind, ref string, ok bool) {
	if !strings.HasPrefix(p, "/v2/") {
		return "", "", "", false
	}
	elems := strings.Split(strings.TrimPrefix(p, "/v2/"), "/")
	if len(elems) < 3 {
		return "", "", "", false
	}
	n := len(elems)
	return strings.Join(elems[:n-2], "/"), elems[n-2], elems[n-1], true
}

type shim struct {
	inner http.Handler
	log   *log.Logger
}

func (s *shim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, kind, ref, ok := splitPath(r.URL.Path)
	switch {
	case ok && kind == "manifests" && r.Method == http.MethodPut:
		s.putManifest(w, r)
	case ok && kind == "referrers" && r.Method == http.MethodGet:
		s.referrers(w, r, name, ref)
	default:
		s.inner.ServeHTTP(w, r)
	}
}

// putManifest passes the PUT on and, when it succeeded and the manifest
// has a subject, adds OCI-Subject to the answer.
func (s *shim) putManifest(w http.ResponseWriter, r *http.Request) {
	body, err := readAll(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var mf manifestFields
	_ = json.Unmarshal(body, &mf)
	r.Body = readCloser{bytes.NewReader(body)}
	r.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	if rec.Code == http.StatusCreated && mf.Subject != nil && mf.Subject.Digest != "" {
		rec.Header().Set("OCI-Subject", mf.Subject.Digest)
	}
	copyResponse(w, rec)
}

// referrers answers from ggcr's own referrers list, corrected.
func (s *shim) referrers(w http.ResponseWriter, r *http.Request, name, dgst string) {
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	idx := index{SchemaVersion: 2, MediaType: ociIndex, Manifests: []descriptor{}}
	switch rec.Code {
	case http.StatusOK:
		var got index
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			http.Error(w, "referrers: "+err.Error(), http.StatusInternalServerError)
			return
		}
		for _, d := range got.Manifests {
			if at, ok := s.artifactType(name, d.Digest); ok {
				d.ArtifactType = at
			}
			idx.Manifests = append(idx.Manifests, d)
		}
	case http.StatusNotFound: // NAME_UNKNOWN: no such repository, so no referrers
	default:
		copyResponse(w, rec)
		return
	}
	filtered := false
	if want := r.URL.Query().Get("artifactType"); want != "" {
		filtered = true
		keep := idx.Manifests[:0]
		for _, d := range idx.Manifests {
			if d.ArtifactType == want {
				keep = append(keep, d)
			}
		}
		idx.Manifests = keep
	}
	sort.Slice(idx.Manifests, func(i, j int) bool { return idx.Manifests[i].Digest < idx.Manifests[j].Digest })
	out, _ := json.Marshal(idx)
	w.Header().Set("Content-Type", ociIndex)
	w.Header().Set("Content-Length", fmt.Sprint(len(out)))
	if filtered {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	s.log.Printf("GET %s 200 (referrers of %s: %d)", r.URL, dgst, len(idx.Manifests))
}

// artifactType reads a stored manifest through the inner handler: its
// artifactType, else its config's media type.
func (s *shim) artifactType(name, dgst string) (string, bool) {
	req := httptest.NewRequest(http.MethodGet, "/v2/"+name+"/manifests/"+dgst, nil)
	req.Header.Set("Accept", ociManifest+","+ociIndex)
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return "", false
	}
	var mf manifestFields
	if err := json.Unmarshal(rec.Body.Bytes(), &mf); err != nil {
		return "", false
	}
	if mf.ArtifactType != "" {
		return mf.ArtifactType, true
	}
	if mf.Config != nil && mf.Config.MediaType != "" {
		return mf.Config.MediaType, true
	}
	return "", false
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	return b.Bytes(), err
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// writePortFile writes addr to path atomically (temp file + rename).
func writePortFile(path, addr string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.WriteString(addr + "\n"); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0: pick a free port)")
	portFile := flag.String("port-file", "", "write the actual HOST:PORT here after listening (atomically)")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "registry: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	logger := log.New(os.Stderr, "registry: ", log.LstdFlags)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		logger.Fatalf("listen: %v", err)
	}
	actual := ln.Addr().String()
	if *portFile != "" {
		if err := writePortFile(*portFile, actual); err != nil {
			logger.Fatalf("port file: %v", err)
		}
	}
	logger.Printf("serving on http://%s (in-memory, referrers API on)", actual)

	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(logger))
	srv := &http.Server{Handler: &shim{inner: inner, log: logger}, ReadHeaderTimeout: 30 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		logger.Fatalf("serve: %v", err)
	case <-ctx.Done():
	}
	logger.Printf("signal received; shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Printf("shutdown: %v", err)
	}
}
