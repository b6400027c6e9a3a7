// Command peer is the Go side of kubeloop's benchmarks (bench/README.md): client-go informers and a
// controller-runtime Manager, in JSON or protobuf, measured by the same harness and protocol as the Node peers.
//
//	peer <scenario> '<json parameters>'
//
// Protocol (the same for every peer): the peer prepares (loads, connects, and for s3/s8 syncs), prints
// {"ready":true}, waits for a line "go" on stdin, runs the measured phase, prints one JSON result line, then waits
// for stdin to close before it exits, so the harness can read /proc/<pid>/stat and /proc/<pid>/status first.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/features"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// params is the JSON the harness passes as the second argument.
type params struct {
	Kubeconfig  string `json:"kubeconfig"`
	Namespace   string `json:"namespace"`
	Kind        string `json:"kind"` // configmaps | pods
	N           int    `json:"n"`
	Proto       bool   `json:"proto"`
	Events      int    `json:"events"`      // s3: update events to wait for
	TimeoutMs   int    `json:"timeoutMs"`   // s3: give up after
	Name        string `json:"name"`        // s6: the object
	Op          string `json:"op"`          // s6: get | patch
	Ops         int    `json:"ops"`         // s6: requests
	Concurrency int    `json:"concurrency"` // s6
	SettleMs    int    `json:"settleMs"`    // s8: idle time before the footprint is read
	Rounds      int    `json:"rounds"`      // s4
	Metadata    bool   `json:"metadata"`    // s1: a metadata-only informer (PartialObjectMetadata)
}

const tsAnnotation = "bench.kubeloop.dev/ts"

var stdin = bufio.NewReader(os.Stdin)

// scenarios holds the scenarios that live in files of their own (s2.go, s5.go, …): each registers itself from an
// init function and parses its own parameters from the JSON the harness passes (kubeconfig and proto included).
var scenarios = map[string]func(raw []byte){}

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
}

func ready() {
	emit(map[string]any{"ready": true})
	line, err := stdin.ReadString('\n')
	if err != nil || line != "go\n" {
		fmt.Fprintf(os.Stderr, "expected go, got %q (%v)\n", line, err)
		os.Exit(2)
	}
}

// measured ends the measured phase: the harness reads the process's CPU from /proc before heap figures are taken.
func measured() {
	emit(map[string]any{"measured": true})
	line, err := stdin.ReadString('\n')
	if err != nil || line != "ok\n" {
		fmt.Fprintf(os.Stderr, "expected ok, got %q (%v)\n", line, err)
		os.Exit(2)
	}
}

func finish(result map[string]any) {
	emit(result)
	for {
		if _, err := stdin.ReadByte(); err != nil {
			return
		}
	}
}

func cpuMs() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

func config(p params) *rest.Config {
	cfg, err := clientcmd.BuildConfigFromFlags("", p.Kubeconfig)
	if err != nil {
		panic(err)
	}
	// client-go throttles to 5 requests/s by default; kubeloop does no client-side throttling by default.
	cfg.QPS = -1
	if p.Proto {
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	}
	return cfg
}

func informerFor(p params, cs kubernetes.Interface, options ...informers.SharedInformerOption) (informers.SharedInformerFactory, cache.SharedIndexInformer) {
	// kubeloop's informers drop managedFields by default; this makes client-go do the same.
	options = append([]informers.SharedInformerOption{informers.WithNamespace(p.Namespace),
		informers.WithTransform(crcache.TransformStripManagedFields())}, options...)
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, options...)
	switch p.Kind {
	case "pods":
		return f, f.Core().V1().Pods().Informer()
	default:
		return f, f.Core().V1().ConfigMaps().Informer()
	}
}

// metadataInformerFor is S1's metadata-only variant: client-go's metadata informer (PartialObjectMetadata), what
// controller-runtime's OnlyMetadata uses, with managedFields stripped as in the other informers.
func metadataInformerFor(p params) (metadatainformer.SharedInformerFactory, cache.SharedIndexInformer) {
	mc := metadata.NewForConfigOrDie(config(p))
	f := metadatainformer.NewFilteredSharedInformerFactory(mc, 0, p.Namespace, nil)
	gvr := corev1.SchemeGroupVersion.WithResource(p.Kind)
	inf := f.ForResource(gvr).Informer()
	if err := inf.SetTransform(crcache.TransformStripManagedFields()); err != nil {
		panic(err)
	}
	return f, inf
}

// waitSynced polls every 0.2 ms: cache.WaitForCacheSync polls every 100 ms, which would round every sync time up.
func waitSynced(hasSynced func() bool) {
	for !hasSynced() {
		time.Sleep(200 * time.Microsecond)
	}
}

func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

func facts(p params) map[string]any {
	return map[string]any{
		"go":              runtime.Version(),
		"wire":            map[bool]string{true: "protobuf", false: "json"}[p.Proto],
		"watchListClient": features.FeatureGates().Enabled(features.WatchListClient),
	}
}

// s1: cold sync of one informer, until an event handler registered before the start has synced.
func s1(p params) { coldSync(p) }

// coldSync is S1's measurement, which S2 repeats with other initial-list options for the informer factory.
func coldSync(p params, options ...informers.SharedInformerOption) {
	cs := kubernetes.NewForConfigOrDie(config(p))
	heap0 := heapAfterGC()
	rssBefore := vmRSSMB()
	ready()
	cpu0 := cpuMs()
	t0 := time.Now()
	var inf cache.SharedIndexInformer
	var start func(stop <-chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	if p.Metadata {
		f, i := metadataInformerFor(p)
		inf, start = i, f.Start
	} else {
		f, i := informerFor(p, cs, options...)
		inf, start = i, f.Start
	}
	// The measured phase ends when a handler registered before the start has been handed every object.
	var seen atomic.Int64
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(any) { seen.Add(1) }})
	if err != nil {
		panic(err)
	}
	start(ctx.Done())
	waitSynced(reg.HasSynced)
	ms := float64(time.Since(t0).Microseconds()) / 1e3
	cpu := cpuMs() - cpu0
	measured()
	if got := len(inf.GetStore().ListKeys()); got != p.N {
		panic(fmt.Sprintf("cached %d of %d", got, p.N))
	}
	if got := seen.Load(); got != int64(p.N) {
		panic(fmt.Sprintf("the handler saw %d of %d", got, p.N))
	}
	heap := heapAfterGC() - heap0
	r := map[string]any{"ms": ms, "cpuMs": cpu, "heapPerObject": float64(heap) / float64(p.N), "rssBeforeMB": rssBefore,
		"handlerSaw": seen.Load(), "facts": facts(p)}
	runtime.KeepAlive(inf)
	finish(r)
	cancel()
}

// s3: watch ingest. Synced before "go"; counts update events and the lag from the writer's timestamp annotation.
func s3(p params) {
	cs := kubernetes.NewForConfigOrDie(config(p))
	f, inf := informerFor(p, cs)
	var mu sync.Mutex
	lags := make([]float64, 0, p.Events)
	var synced atomic.Bool
	var relistish atomic.Int64
	done := make(chan struct{})
	var closeOnce sync.Once
	reg, _ := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if synced.Load() {
				relistish.Add(1)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			now := nowMs()
			o := newObj.(metav1.Object)
			if oldObj.(metav1.Object).GetResourceVersion() == o.GetResourceVersion() {
				relistish.Add(1)
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
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx.Done())
	waitSynced(inf.HasSynced)
	waitSynced(reg.HasSynced) // the handler has been handed the initial list too
	synced.Store(true)
	heap0 := heapAfterGC()
	ready()
	cpu0 := cpuMs()
	select {
	case <-done:
	case <-time.After(time.Duration(p.TimeoutMs) * time.Millisecond):
	}
	cpu := cpuMs() - cpu0
	measured()
	mu.Lock()
	sorted := append([]float64(nil), lags...)
	mu.Unlock()
	sort.Float64s(sorted)
	heap1 := heapAfterGC()
	finish(map[string]any{
		"events": len(sorted), "cpuMs": cpu,
		"lagP50Ms": percentile(sorted, 0.5), "lagP99Ms": percentile(sorted, 0.99),
		"relistEvents": relistish.Load(), "heapDriftBytes": int64(heap1) - int64(heap0), "facts": facts(p),
	})
	cancel()
}

// s6: sequential (concurrency 1) or concurrent GETs or merge PATCHes of one ConfigMap.
func s6(p params) {
	cs := kubernetes.NewForConfigOrDie(config(p))
	cms := cs.CoreV1().ConfigMaps(p.Namespace)
	ctx := context.Background()
	// One request first, so the connection is open (as for every peer).
	if _, err := cms.Get(ctx, p.Name, metav1.GetOptions{}); err != nil {
		panic(err)
	}
	ready()
	lat := make([]float64, p.Ops)
	var next atomic.Int64
	cpu0 := cpuMs()
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < p.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= p.Ops {
					return
				}
				s := time.Now()
				var err error
				if p.Op == "patch" {
					body := fmt.Sprintf(`{"metadata":{"annotations":{"bench.kubeloop.dev/n":"%d"}}}`, i)
					_, err = cms.Patch(ctx, p.Name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
				} else {
					_, err = cms.Get(ctx, p.Name, metav1.GetOptions{})
				}
				if err != nil {
					panic(err)
				}
				lat[i] = float64(time.Since(s).Microseconds()) / 1e3
			}
		}()
	}
	wg.Wait()
	wall := time.Since(t0).Seconds()
	cpu := cpuMs() - cpu0
	sort.Float64s(lat)
	finish(map[string]any{
		"p50Ms": percentile(lat, 0.5), "p99Ms": percentile(lat, 0.99), "reqPerSec": float64(p.Ops) / wall,
		"cpuUsPerRequest": cpu * 1000 / float64(p.Ops), "cpuMs": cpu, "facts": facts(p),
	})
}

type noop struct{}

func (noop) Reconcile(context.Context, reconcile.Request) (reconcile.Result, error) {
	return reconcile.Result{}, nil
}

// s8: a controller-runtime Manager with three controllers (ConfigMaps, Secrets, Services) on an empty namespace.
// Ready (synced) before "go"; the measured phase is an idle wait.
func s8(p params) {
	log.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	t0 := time.Now()
	mgr, err := ctrl.NewManager(config(p), ctrl.Options{
		Cache:                  crcache.Options{DefaultNamespaces: map[string]crcache.Config{p.Namespace: {}}},
		Metrics:                server.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		panic(err)
	}
	for name, obj := range map[string]client.Object{"configmaps": &corev1.ConfigMap{}, "secrets": &corev1.Secret{}, "services": &corev1.Service{}} {
		if err := ctrl.NewControllerManagedBy(mgr).Named(name).For(obj).Complete(noop{}); err != nil {
			panic(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		if err := mgr.Start(ctx); err != nil {
			panic(err)
		}
	}()
	// GetInformer blocks until that informer synced once the cache runs; then each is checked, as kubeloop's peer does.
	for _, obj := range []client.Object{&corev1.ConfigMap{}, &corev1.Secret{}, &corev1.Service{}} {
		inf, err := mgr.GetCache().GetInformer(ctx, obj)
		if err != nil {
			panic(err)
		}
		waitSynced(inf.HasSynced)
	}
	readyMs := float64(time.Since(t0).Microseconds()) / 1e3
	ready()
	cpu0 := cpuMs()
	time.Sleep(time.Duration(p.SettleMs) * time.Millisecond)
	idleCPU := cpuMs() - cpu0
	measured() // before the forced GCs of the heap figure
	finish(map[string]any{"readyMs": readyMs, "idleCpuMs": idleCPU, "heapBytes": heapAfterGC(), "facts": facts(p)})
	cancel()
}

// s4: client-go's workqueue, add ×1000 then get/done until empty, as bench/workqueue does for kubeloop.
func s4(p params) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("namespace-%d/object-%d", i%10, i)
	}
	q := workqueue.NewTyped[string]()
	round := func() {
		for r := 0; r < p.Rounds; r++ {
			for _, k := range keys {
				q.Add(k)
			}
			for q.Len() > 0 {
				k, _ := q.Get()
				q.Done(k)
			}
		}
	}
	round() // warm-up
	ready()
	cpu0 := cpuMs()
	t0 := time.Now()
	round()
	secs := time.Since(t0).Seconds()
	cycles := float64(p.Rounds * len(keys))
	q.ShutDown()

	// 100k delayed items: heap per item.
	heap0 := heapAfterGC()
	dq := workqueue.NewTypedDelayingQueue[string]()
	g0 := runtime.NumGoroutine()
	for i := 0; i < 100_000; i++ {
		dq.AddAfter(fmt.Sprintf("namespace-%d/object-%d", i%100, i), time.Minute+time.Duration(i%540_000)*time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the waiting loop picks the items up from its channel
	perItem := float64(int64(heapAfterGC())-int64(heap0)) / 100_000
	goroutines := runtime.NumGoroutine() - g0
	dq.ShutDown()
	finish(map[string]any{"cyclesPerSec": cycles / secs, "cpuMs": cpuMs() - cpu0, "delayedHeapBytesPerItem": perItem,
		"delayedGoroutines": goroutines, "facts": facts(p)})
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: peer <scenario> '<json>'")
		os.Exit(2)
	}
	if v := os.Getenv("BENCH_KLOG_V"); v != "" { // client-go's request logging (headers at 8), for checking a peer's wire format
		klog.InitFlags(nil)
		_ = flag.Set("v", v)
	}
	var p params
	if err := json.Unmarshal([]byte(os.Args[2]), &p); err != nil {
		panic(err)
	}
	builtin := map[string]func(params){"s1": s1, "s3": s3, "s4": s4, "s6": s6, "s8": s8}
	if run, ok := builtin[os.Args[1]]; ok {
		run(p)
		return
	}
	if run, ok := scenarios[os.Args[1]]; ok {
		run([]byte(os.Args[2]))
		return
	}
	fmt.Fprintf(os.Stderr, "unknown scenario %s\n", os.Args[1])
	os.Exit(2)
}

// vmRSSMB is the process's resident set now, from /proc/self/status.
func vmRSSMB() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}
