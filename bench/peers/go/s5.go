// S5 reconcile throughput, controller-runtime's side (bench/scenarios/s5.mjs has the harness's; the Node peer,
// bench/peers/node/s5.mjs, does the same thing step by step). A Manager with one controller For(Widget), W workers;
// reconcile = cached get + merge patch of the status subresource. Phase A: from "go" (the manager starts) until every
// Widget's first reconcile is done. Phase B: the harness bumps spec.size of p.Changes Widgets; each status patch that
// moves observedGeneration to a new generation records now − the change's timestamp annotation.
package main

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func init() { scenarios["s5"] = runS5 }

type s5Params struct {
	Kubeconfig string `json:"kubeconfig"`
	Proto      bool   `json:"proto"`
	Namespace  string `json:"namespace"`
	K          int    `json:"k"`
	Workers    int    `json:"workers"`
	Changes    int    `json:"changes"`
	PhaseBMs   int    `json:"phaseBMs"`
	SignalFile string `json:"signalFile"`
}

// Widget is a small hand-written typed custom resource (what kubebuilder would generate, deep copy included).
type WidgetSpec struct {
	Size int64 `json:"size,omitempty"`
}
type WidgetStatus struct {
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}
type Widget struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              WidgetSpec   `json:"spec,omitempty"`
	Status            WidgetStatus `json:"status,omitempty"`
}
type WidgetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Widget `json:"items"`
}

func (in *Widget) DeepCopyInto(out *Widget) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
}
func (in *Widget) DeepCopyObject() runtime.Object {
	out := new(Widget)
	in.DeepCopyInto(out)
	return out
}
func (in *WidgetList) DeepCopyObject() runtime.Object {
	out := new(WidgetList)
	*out = *in
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]Widget, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

var widgetGV = schema.GroupVersion{Group: "bench.kubeloop.dev", Version: "v1"}

type s5State struct {
	p  s5Params
	mu sync.Mutex

	phaseB       bool
	added        map[string]float64 // key → add time (the extra handler)
	startedFirst map[string]float64 // key → first reconcile start, when it came before the extra handler saw the add
	queueLat     []float64
	firstDone    map[string]bool

	firstStart, cpuFirst            float64
	lastFirstDone, cpuLastFirstDone float64
	reconciles, reconcilesAtEnd     int
	staleAtStart, errors            int
	changeLat                       []float64
	phaseBReconciles                int
	doneA, doneB                    chan struct{}
	closeA, closeB                  sync.Once
}

type s5Reconciler struct {
	c  client.Client
	st *s5State
}

func (r *s5Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	st := r.st
	start := nowMs()
	key := req.NamespacedName.String()
	st.mu.Lock()
	phaseB := st.phaseB
	if !phaseB {
		if st.firstStart == 0 {
			st.firstStart = start
			st.cpuFirst = cpuMs()
		}
		if a, ok := st.added[key]; ok {
			st.queueLat = append(st.queueLat, start-a)
			delete(st.added, key)
		} else if _, seen := st.startedFirst[key]; !seen && !st.firstDone[key] {
			st.startedFirst[key] = start
		}
	}
	st.mu.Unlock()

	var w Widget
	if err := r.c.Get(ctx, req.NamespacedName, &w); err != nil {
		st.mu.Lock()
		st.errors++
		st.mu.Unlock()
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	generation := w.Generation
	observed := w.Status.ObservedGeneration
	ts := w.Annotations[tsAnnotation]
	body := []byte(`{"status":{"observedGeneration":` + strconv.FormatInt(generation, 10) + `}}`)
	if err := r.c.Status().Patch(ctx, &w, client.RawPatch(types.MergePatchType, body)); err != nil {
		st.mu.Lock()
		st.errors++
		st.mu.Unlock()
		return reconcile.Result{}, err
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	if !phaseB {
		st.reconciles++
		if !st.firstDone[key] {
			if observed != generation {
				st.staleAtStart++
			}
			st.firstDone[key] = true
			if len(st.firstDone) == st.p.K {
				st.lastFirstDone = nowMs()
				st.cpuLastFirstDone = cpuMs()
				st.reconcilesAtEnd = st.reconciles
				st.closeA.Do(func() { close(st.doneA) })
			}
		}
	} else {
		st.phaseBReconciles++
		if observed != generation && ts != "" {
			if t, err := strconv.ParseFloat(ts, 64); err == nil {
				st.changeLat = append(st.changeLat, nowMs()-t)
				if len(st.changeLat) >= st.p.Changes {
					st.closeB.Do(func() { close(st.doneB) })
				}
			}
		}
	}
	return reconcile.Result{}, nil
}

func runS5(raw []byte) {
	var p s5Params
	if err := json.Unmarshal(raw, &p); err != nil {
		panic(err)
	}
	base := params{Kubeconfig: p.Kubeconfig, Proto: p.Proto}
	log.SetLogger(zap.New(zap.WriteTo(os.Stderr))) // as in s8: info level, a few lines at start
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	scheme.AddKnownTypes(widgetGV, &Widget{}, &WidgetList{})
	metav1.AddToGroupVersion(scheme, widgetGV)

	mgr, err := ctrl.NewManager(config(base), ctrl.Options{
		Scheme: scheme,
		Cache: crcache.Options{
			DefaultNamespaces: map[string]crcache.Config{p.Namespace: {}},
			DefaultTransform:  crcache.TransformStripManagedFields(), // kubeloop's cache drops managedFields by default
		},
		Metrics:                server.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		panic(err)
	}
	st := &s5State{
		p: p, added: map[string]float64{}, startedFirst: map[string]float64{}, firstDone: map[string]bool{},
		queueLat: make([]float64, 0, p.K), doneA: make(chan struct{}), doneB: make(chan struct{}),
	}
	err = ctrl.NewControllerManagedBy(mgr).Named("widgets").For(&Widget{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: p.Workers}).
		Complete(&s5Reconciler{c: mgr.GetClient(), st: st})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Queue latency: an extra handler on the same informer records when each key was added. The cache is not started
	// yet, so GetInformer returns at once (made here, started with the manager).
	inf, err := mgr.GetCache().GetInformer(ctx, &Widget{})
	if err != nil {
		panic(err)
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			now := nowMs()
			o := obj.(*Widget)
			key := o.Namespace + "/" + o.Name
			st.mu.Lock()
			if s, ok := st.startedFirst[key]; ok {
				st.queueLat = append(st.queueLat, s-now)
			} else {
				st.added[key] = now
			}
			st.mu.Unlock()
		},
	}); err != nil {
		panic(err)
	}

	ready()
	t0 := nowMs()
	cpu0 := cpuMs()
	go func() {
		if err := mgr.Start(ctx); err != nil {
			panic(err)
		}
	}()
	<-st.doneA
	measured()
	cpuPhaseA := cpuMs() - cpu0
	time.Sleep(200 * time.Millisecond) // late extra reconciles (there should be none) land in phase A
	st.mu.Lock()
	extra := st.reconciles - st.reconcilesAtEnd
	st.phaseB = true
	st.mu.Unlock()
	if err := os.WriteFile(p.SignalFile, nil, 0o600); err != nil {
		panic(err)
	}
	select {
	case <-st.doneB:
	case <-time.After(time.Duration(p.PhaseBMs) * time.Millisecond):
	}

	st.mu.Lock()
	q := append([]float64(nil), st.queueLat...)
	ch := append([]float64(nil), st.changeLat...)
	windowMs := st.lastFirstDone - st.firstStart
	cpu := st.cpuLastFirstDone - st.cpuFirst
	r := map[string]any{
		"k": p.K, "workers": p.Workers, "reconciles": st.reconcilesAtEnd, "extraReconciles": extra,
		"staleAtStart": st.staleAtStart, "errors": st.errors, "windowMs": windowMs,
		"reconcilesPerSec": float64(st.reconcilesAtEnd) / (windowMs / 1000), "cpuMs": cpu,
		"cpuUsPerReconcile": cpu * 1000 / float64(st.reconcilesAtEnd), "cpuPhaseAMs": cpuPhaseA,
		"firstReconcileMs": st.firstStart - t0, "queueSamples": len(q), "changes": len(ch),
		"phaseBReconciles": st.phaseBReconciles, "facts": facts(base),
	}
	st.mu.Unlock()
	sort.Float64s(q)
	sort.Float64s(ch)
	r["queueP50Ms"], r["queueP99Ms"] = percentile(q, 0.5), percentile(q, 0.99)
	if len(ch) > 0 {
		r["changeP50Ms"], r["changeP99Ms"] = percentile(ch, 0.5), percentile(ch, 0.99)
	} else {
		r["changeP50Ms"], r["changeP99Ms"] = nil, nil
	}
	finish(r)
}
