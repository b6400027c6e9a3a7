package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// Container logs are kept in the CRI log format, one record a line: `<RFC3339Nano time> <stream> <P|F> <content>`,
// P for a part of a line still being written, F for the end of one.

// logWriter is a container instance's log file; stdout and stderr write their records to it one at a time.
type logWriter struct {
	mu sync.Mutex
	f  *os.File
}

type logStream struct {
	w    *logWriter
	name string
}

func (w *logWriter) stream(name string) io.Writer { return &logStream{w: w, name: name} }

func (s *logStream) Write(p []byte) (int, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var rec bytes.Buffer
	for rest := p; len(rest) > 0; {
		line, more, full := bytes.Cut(rest, []byte{'\n'})
		tag := "P"
		if full {
			tag = "F"
		}
		rec.WriteString(now + " " + s.name + " " + tag + " ")
		rec.Write(line)
		rec.WriteByte('\n')
		rest = more
	}
	if _, err := s.w.f.Write(rec.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// logRecord is one parsed record.
type logRecord struct {
	time    time.Time
	stamp   string
	content []byte
	full    bool
}

func parseRecord(line []byte) (logRecord, bool) {
	stamp, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return logRecord{}, false
	}
	_, rest, ok = bytes.Cut(rest, []byte{' '}) // stream
	if !ok {
		return logRecord{}, false
	}
	tag, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return logRecord{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(stamp))
	if err != nil {
		return logRecord{}, false
	}
	return logRecord{time: t, stamp: string(stamp), content: content, full: string(tag) == "F"}, true
}

// logOptions are the query parameters of /containerLogs, as the API server passes them on.
type logOptions struct {
	follow     bool
	previous   bool
	timestamps bool
	tailLines  int64 // -1: all
	limitBytes int64 // -1: no limit
	since      time.Time
}

func parseLogOptions(r *http.Request) (logOptions, string) {
	q := r.URL.Query()
	o := logOptions{tailLines: -1, limitBytes: -1}
	o.follow = q.Get("follow") == "true"
	o.previous = q.Get("previous") == "true"
	o.timestamps = q.Get("timestamps") == "true"
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return o, "tailLines must be a non-negative integer"
		}
		o.tailLines = n
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return o, "limitBytes must be a positive integer"
		}
		o.limitBytes = n
	}
	if v := q.Get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return o, "sinceSeconds must be a positive integer"
		}
		o.since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return o, "sinceTime must be an RFC 3339 time"
		}
		o.since = t
	}
	return o, ""
}

// logLine is one logical line: its records' contents joined, with the first record's time.
type logLine struct {
	time         time.Time
	stamp        string
	data         []byte // with its newline when complete
	continuation bool   // the rest of a line whose start was already returned
}

// lineReader turns a log file's records into logical lines, following the file as it grows when asked to.
type lineReader struct {
	r       *bufio.Reader
	pending *logLine
	partial []byte // an unfinished record line at the end of the file
	midLine bool   // the start of the current line was returned unfinished
}

// next returns the next complete logical line, or (nil, io.EOF) at the current end of the file; a line still being
// written is returned without its newline only when flush is set.
func (lr *lineReader) next(flush bool) (*logLine, error) {
	for {
		chunk, err := lr.r.ReadBytes('\n')
		lr.partial = append(lr.partial, chunk...)
		if err != nil {
			if flush && lr.pending != nil {
				l := lr.pending
				lr.pending = nil
				l.continuation = lr.midLine
				lr.midLine = true
				return l, nil
			}
			return nil, err
		}
		raw := lr.partial
		lr.partial = nil
		rec, ok := parseRecord(bytes.TrimSuffix(raw, []byte{'\n'}))
		if !ok {
			continue
		}
		if lr.pending == nil {
			lr.pending = &logLine{time: rec.time, stamp: rec.stamp}
		}
		lr.pending.data = append(lr.pending.data, rec.content...)
		if rec.full {
			lr.pending.data = append(lr.pending.data, '\n')
			l := lr.pending
			lr.pending = nil
			l.continuation = lr.midLine
			lr.midLine = false
			return l, nil
		}
	}
}

// serveLog writes the log file of a container instance; with follow, until done closes and the file is read to
// its end, or the client goes away.
func serveLog(ctx context.Context, w http.ResponseWriter, path string, o logOptions, done <-chan struct{}) {
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "the container's log is not there: "+err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	written := int64(0)
	emit := func(l *logLine) bool {
		var out []byte
		if o.timestamps && !l.continuation {
			out = append(out, l.stamp...)
			out = append(out, ' ')
		}
		out = append(out, l.data...)
		if o.limitBytes >= 0 && written+int64(len(out)) > o.limitBytes {
			out = out[:o.limitBytes-written]
		}
		n, err := w.Write(out)
		written += int64(n)
		return err == nil && (o.limitBytes < 0 || written < o.limitBytes)
	}
	lr := &lineReader{r: bufio.NewReader(f)}

	// What is there now: filtered by since, then the last tailLines.
	var backlog []*logLine
	for {
		l, err := lr.next(!o.follow)
		if err != nil {
			break
		}
		if !o.since.IsZero() && l.time.Before(o.since) {
			continue
		}
		backlog = append(backlog, l)
		if o.tailLines >= 0 && int64(len(backlog)) > o.tailLines {
			backlog = backlog[1:]
		}
	}
	for _, l := range backlog {
		if !emit(l) {
			return
		}
	}
	if flusher != nil {
		flusher.Flush()
	}
	if !o.follow {
		return
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		finished := false
		select {
		case <-ctx.Done():
			return
		case <-done:
			finished = true
		case <-tick.C:
		}
		for {
			// Followed, a line still being written is passed on as far as it goes (a prompt, a progress bar).
			l, err := lr.next(true)
			if err != nil {
				break
			}
			if !l.continuation && !o.since.IsZero() && l.time.Before(o.since) {
				continue
			}
			if !emit(l) {
				return
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if finished {
			return
		}
	}
}
