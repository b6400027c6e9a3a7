package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExpandFollowsKubernetes(t *testing.T) {
	vars := map[string]string{"A": "x", "B": "y"}
	for in, want := range map[string]string{
		"plain":         "plain",
		"$(A)-$(B)":     "x-y",
		"$(MISSING)":    "$(MISSING)",
		"$$(A)":         "$(A)",
		"echo $$$$":     "echo $$",
		"cost $5":       "cost $5",
		"open $(A":      "open $(A",
		"trailing $":    "trailing $",
		"$(A)$(A)$$":    "xx$",
		"nested $((A))": "nested $((A))",
	} {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

// writeLog writes chunks to a log file as a container's stdout would, and returns its path.
func writeLog(t *testing.T, chunks ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := (&logWriter{f: f}).stream("stdout")
	for _, c := range chunks {
		if _, err := w.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func serve(t *testing.T, path, query string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/containerLogs/ns/p/c?"+query, nil)
	o, bad := parseLogOptions(req)
	if bad != "" {
		t.Fatal(bad)
	}
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	close(done)
	serveLog(context.Background(), rec, path, o, done)
	return rec.Body.String()
}

func TestLogsJoinPartialLinesAndApplyOptions(t *testing.T) {
	path := writeLog(t, "one\ntw", "o\nthree\n", "four")
	if got := serve(t, path, ""); got != "one\ntwo\nthree\nfour" {
		t.Errorf("all: %q", got)
	}
	if got := serve(t, path, "tailLines=2"); got != "three\nfour" {
		t.Errorf("tailLines: %q", got)
	}
	if got := serve(t, path, "limitBytes=6"); got != "one\ntw" {
		t.Errorf("limitBytes: %q", got)
	}
	stamped := serve(t, path, "timestamps=true&tailLines=1")
	stamp, rest, _ := strings.Cut(stamped, " ")
	if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil || rest != "four" {
		t.Errorf("timestamps: %q", stamped)
	}
	if got := serve(t, path, "sinceTime="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); got != "" {
		t.Errorf("sinceTime in the future: %q", got)
	}
}

func TestLogOptionsRejectBadValues(t *testing.T) {
	for _, q := range []string{"tailLines=-1", "limitBytes=0", "sinceSeconds=x", "sinceTime=yesterday"} {
		req := httptest.NewRequest(http.MethodGet, "/containerLogs/ns/p/c?"+q, nil)
		if _, bad := parseLogOptions(req); bad == "" {
			t.Errorf("%s was accepted", q)
		}
	}
}

func TestFollowPassesOnPartialLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := (&logWriter{f: f}).stream("stdout")
	_, _ = w.Write([]byte("first\nprompt> "))
	req := httptest.NewRequest(http.MethodGet, "/containerLogs/ns/p/c?follow=true&timestamps=true", nil)
	o, _ := parseLogOptions(req)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	served := make(chan struct{})
	go func() { serveLog(context.Background(), rec, path, o, done); close(served) }()
	time.Sleep(200 * time.Millisecond)
	_, _ = w.Write([]byte("answer\n"))
	time.Sleep(200 * time.Millisecond)
	close(done)
	<-served
	lines := strings.Split(strings.TrimSuffix(rec.Body.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " first") || !strings.HasSuffix(lines[1], " prompt> answer") ||
		strings.Count(lines[1], "Z ") != 1 {
		t.Errorf("followed: %q", rec.Body.String())
	}
}
