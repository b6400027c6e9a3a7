package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
)

// s2Params adds the initial-list strategy to the common parameters.
type s2Params struct {
	params
	Strategy string `json:"strategy"` // watch-list | list-500 | list-all
}

func init() { scenarios["s2"] = runS2 }

// runS2: cold sync of one informer with a given initial-list strategy. WatchList is client-go's WatchListClient
// feature (an environment feature gate, read once on first use); the LISTs are the reflector's own pager with the
// page size forced, and resourceVersion "" (a consistent read), as kubeloop lists.
func runS2(raw []byte) {
	var p s2Params
	if err := json.Unmarshal(raw, &p); err != nil {
		panic(err)
	}
	_ = os.Setenv("KUBE_FEATURE_WatchListClient", fmt.Sprint(p.Strategy == "watch-list"))
	limit := map[string]int64{"list-500": 500, "list-all": 0}[p.Strategy]
	cs := kubernetes.NewForConfigOrDie(config(p.params))
	heap0 := heapAfterGC()
	rssBefore := vmRSSMB()
	ready()
	cpu0 := cpuMs()
	t0 := time.Now()
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(p.Namespace),
		informers.WithTransform(crcache.TransformStripManagedFields()),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			if !o.Watch && p.Strategy != "watch-list" {
				o.ResourceVersion = ""
				o.Limit = limit
			}
		}))
	var inf cache.SharedIndexInformer
	if p.Kind == "pods" {
		inf = f.Core().V1().Pods().Informer()
	} else {
		inf = f.Core().V1().ConfigMaps().Informer()
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx.Done())
	waitSynced(inf.HasSynced)
	ms := float64(time.Since(t0).Microseconds()) / 1e3
	cpu := cpuMs() - cpu0
	measured()
	if got := len(inf.GetStore().ListKeys()); got != p.N {
		panic(fmt.Sprintf("cached %d of %d", got, p.N))
	}
	heap := heapAfterGC() - heap0
	r := map[string]any{"ms": ms, "cpuMs": cpu, "heapPerObject": float64(heap) / float64(p.N),
		"rssBeforeMB": rssBefore, "facts": facts(p.params)}
	runtime.KeepAlive(inf)
	finish(r)
	cancel()
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
