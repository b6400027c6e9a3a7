package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// s10Params adds the steady phase's parameters to the common ones.
type s10Params struct {
	params
	SignalFile      string `json:"signalFile"`      // created when the cold sync is over: the harness's writer starts then
	SteadyTimeoutMs int    `json:"steadyTimeoutMs"` // the steady phase gives up after this
}

func init() { scenarios["s10"] = runS10 }

// runS10: S10's scale curve, the same steps as bench/peers/node/s10.mjs. A cold sync (S1's: until a handler
// registered before the start has synced), the settled memory after it, then a steady watch (the harness patches a
// timestamp annotation of p.Events objects) with CPU per event and lag, and the settled memory again.
func runS10(raw []byte) {
	var p s10Params
	if err := json.Unmarshal(raw, &p); err != nil {
		panic(err)
	}
	cs := kubernetes.NewForConfigOrDie(config(p.params))
	heap0 := heapAfterGC()
	rssBefore := vmRSSMB()
	ready()
	cpu0 := cpuMs()
	t0 := time.Now()
	var inf cache.SharedIndexInformer
	var start func(stop <-chan struct{})
	if p.Metadata {
		f, i := metadataInformerFor(p.params)
		inf, start = i, f.Start
	} else {
		f, i := informerFor(p.params, cs)
		inf, start = i, f.Start
	}
	var adds atomic.Int64
	var mu sync.Mutex
	lags := make([]float64, 0, p.Events)
	done := make(chan struct{})
	var closeOnce sync.Once
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { adds.Add(1) },
		UpdateFunc: func(oldObj, newObj any) {
			now := nowMs()
			o := newObj.(metav1.Object)
			if oldObj.(metav1.Object).GetResourceVersion() == o.GetResourceVersion() {
				return
			}
			ts, err := strconv.ParseFloat(o.GetAnnotations()[tsAnnotation], 64)
			if err != nil {
				return
			}
			mu.Lock()
			lags = append(lags, now-ts)
			n := len(lags)
			mu.Unlock()
			if n >= p.Events {
				closeOnce.Do(func() { close(done) })
			}
		},
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start(ctx.Done())
	waitSynced(reg.HasSynced)
	ms := float64(time.Since(t0).Microseconds()) / 1e3
	cpu := cpuMs() - cpu0
	peakSync := vmHWMMB()
	measured()
	if got := adds.Load(); got != int64(p.N) {
		panic(fmt.Sprintf("the handler saw %d of %d", got, p.N))
	}
	heapSynced := heapAfterGC()
	rssSynced := vmRSSMB()

	// The steady watch.
	if err := os.WriteFile(p.SignalFile, nil, 0o600); err != nil {
		panic(err)
	}
	cpu1 := cpuMs()
	select {
	case <-done:
	case <-time.After(time.Duration(p.SteadyTimeoutMs) * time.Millisecond):
	}
	steadyCPU := cpuMs() - cpu1
	mu.Lock()
	sorted := append([]float64(nil), lags...)
	mu.Unlock()
	sort.Float64s(sorted)
	heapSteady := heapAfterGC()
	rssSteady := vmRSSMB()
	runtime.KeepAlive(inf)
	finish(map[string]any{
		"ms": ms, "cpuMs": cpu, "handlerSaw": adds.Load(), "rssBeforeMB": rssBefore, "peakSyncMB": peakSync,
		"settledHeapBytes": int64(heapSynced) - int64(heap0), "settledRssMB": rssSynced,
		"events": len(sorted), "steadyCpuMs": steadyCPU,
		"lagP50Ms": percentile(sorted, 0.5), "lagP99Ms": percentile(sorted, 0.99),
		"steadyHeapBytes": int64(heapSteady) - int64(heap0), "steadyRssMB": rssSteady,
		"facts": facts(p.params),
	})
}

// vmHWMMB is the process's peak resident set so far, from /proc/self/status.
func vmHWMMB() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}
