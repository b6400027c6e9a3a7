package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
)

type kubelet struct {
	cs      kubernetes.Interface
	opts    options
	started metav1.Time
	nodeUID types.UID

	mu       sync.Mutex
	pods     map[types.UID]*podState
	stopping bool
}

func newKubelet(cs kubernetes.Interface, o options) *kubelet {
	return &kubelet{cs: cs, opts: o, started: metav1.Now(), pods: map[types.UID]*podState{}}
}

// podByName is the running pod of that namespace and name (the newest, should a deleted one linger).
func (k *kubelet) podByName(namespace, name string) *podState {
	k.mu.Lock()
	defer k.mu.Unlock()
	var found *podState
	for _, p := range k.pods {
		if p.namespace == namespace && p.name == name && (found == nil || p.created.After(found.created)) {
			found = p
		}
	}
	return found
}

// watchPods follows the pods bound to this node and, with --bind-unscheduled-pods, binds those bound to none.
func (k *kubelet) watchPods(ctx context.Context) error {
	mine := informers.NewSharedInformerFactoryWithOptions(k.cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.opts.nodeName).String()
	}))
	podInformer := mine.Core().V1().Pods().Informer()
	_, err := podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { k.podChanged(obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj any) { k.podChanged(obj.(*corev1.Pod)) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				k.podDeleted(pod)
			}
		},
	})
	if err != nil {
		return err
	}
	mine.Start(ctx.Done())
	synced := []cache.InformerSynced{podInformer.HasSynced}

	if k.opts.bindUnscheduled {
		unbound := informers.NewSharedInformerFactoryWithOptions(k.cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", "").String()
		}))
		unboundInformer := unbound.Core().V1().Pods().Informer()
		_, err := unboundInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { go k.bind(ctx, obj.(*corev1.Pod)) },
			UpdateFunc: func(_, obj any) { go k.bind(ctx, obj.(*corev1.Pod)) },
		})
		if err != nil {
			return err
		}
		unbound.Start(ctx.Done())
		synced = append(synced, unboundInformer.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("the pod watch did not sync")
	}
	return nil
}

// bind plays the scheduler for a pod bound to no node: a Binding to this node, unless the pod is gated or deleted.
func (k *kubelet) bind(ctx context.Context, pod *corev1.Pod) {
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil || len(pod.Spec.SchedulingGates) > 0 {
		return
	}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: k.opts.nodeName},
	}
	err := k.cs.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		logf("binding pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

func (k *kubelet) podChanged(pod *corev1.Pod) {
	k.mu.Lock()
	if k.stopping {
		k.mu.Unlock()
		return
	}
	p, ok := k.pods[pod.UID]
	if !ok {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			// Finished before this kubelet started (an earlier run): nothing to run, only a deletion to confirm.
			k.mu.Unlock()
			if pod.DeletionTimestamp != nil {
				go k.confirmDeletion(pod.Namespace, pod.Name, pod.UID)
			}
			return
		}
		p = newPodState(k, pod)
		k.pods[pod.UID] = p
		k.mu.Unlock()
		go p.run()
	} else {
		k.mu.Unlock()
	}
	if pod.DeletionTimestamp != nil {
		grace := int64(30)
		if pod.DeletionGracePeriodSeconds != nil {
			grace = *pod.DeletionGracePeriodSeconds
		}
		p.terminate(time.Duration(grace) * time.Second)
	}
}

func (k *kubelet) podDeleted(pod *corev1.Pod) {
	k.mu.Lock()
	p, ok := k.pods[pod.UID]
	delete(k.pods, pod.UID)
	k.mu.Unlock()
	if ok {
		p.gone()
	}
}

// confirmDeletion deletes the pod with grace 0, as a kubelet does once its containers are gone.
func (k *kubelet) confirmDeletion(namespace, name string, uid types.UID) {
	err := k.cs.CoreV1().Pods(namespace).Delete(context.Background(), name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		logf("confirming the deletion of pod %s/%s: %v", namespace, name, err)
	}
}

// shutdown kills every container's processes at once (the kubelet is stopping; pod statuses are left as they are).
func (k *kubelet) shutdown() {
	k.mu.Lock()
	k.stopping = true
	pods := make([]*podState, 0, len(k.pods))
	for _, p := range k.pods {
		pods = append(pods, p)
	}
	k.mu.Unlock()
	for _, p := range pods {
		p.kill()
	}
}

// podState is one pod this kubelet runs.
type podState struct {
	k         *kubelet
	uid       types.UID
	namespace string
	name      string
	created   time.Time
	dir       string

	mu          sync.Mutex
	pod         *corev1.Pod
	containers  []*container
	startTime   metav1.Time
	terminating bool
	stop        chan struct{} // closed when the pod is to stop (deletion or kubelet shutdown)
	deleted     bool
	kick        chan struct{}
	quit        chan struct{} // closed once the pod is gone or the kubelet stops: ends statusLoop
}

func newPodState(k *kubelet, pod *corev1.Pod) *podState {
	p := &podState{
		k: k, uid: pod.UID, namespace: pod.Namespace, name: pod.Name, created: pod.CreationTimestamp.Time,
		dir: filepath.Join(k.opts.rootDir, "pods", string(pod.UID)), pod: pod.DeepCopy(), startTime: metav1.Now(),
		stop: make(chan struct{}), kick: make(chan struct{}, 1), quit: make(chan struct{}),
	}
	for _, spec := range pod.Spec.Containers {
		p.containers = append(p.containers, newContainer(p, spec))
	}
	return p
}

func (p *podState) container(name string) *container {
	for _, c := range p.containers {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

// run starts the containers (or fails the pod when it asks for what this kubelet cannot do) and posts statuses.
func (p *podState) run() {
	go p.statusLoop()
	if len(p.pod.Spec.InitContainers) > 0 {
		p.failUnsupported("init containers are not run by kubeloop's test kubelet")
		return
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		p.failUnsupported(fmt.Sprintf("cannot create the pod folder: %v", err))
		return
	}
	for _, c := range p.containers {
		go c.loop()
	}
	p.statusChanged()
}

func (p *podState) failUnsupported(message string) {
	for _, c := range p.containers {
		c.mu.Lock()
		c.waitingReason, c.waitingMessage = "Unsupported", message
		c.mu.Unlock()
	}
	p.mu.Lock()
	p.terminating = true
	p.mu.Unlock()
	p.statusChanged()
}

func (p *podState) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// terminate stops the containers (TERM, then KILL after the grace period), posts their final status and confirms
// the deletion. Called on every update of a pod being deleted: only the first call acts.
func (p *podState) terminate(grace time.Duration) {
	p.mu.Lock()
	if p.deleted || p.stopped() {
		p.mu.Unlock()
		return
	}
	close(p.stop)
	p.mu.Unlock()
	go func() {
		var wg sync.WaitGroup
		for _, c := range p.containers {
			wg.Add(1)
			go func() { defer wg.Done(); c.stopProcess(grace) }()
		}
		wg.Wait()
		p.postStatus()
		p.k.confirmDeletion(p.namespace, p.name, p.uid)
	}()
}

// kill ends every process now (the kubelet is stopping).
func (p *podState) kill() {
	p.mu.Lock()
	if !p.stopped() {
		close(p.stop)
	}
	if !p.deleted {
		close(p.quit)
	}
	p.deleted = true
	p.mu.Unlock()
	for _, c := range p.containers {
		c.stopProcess(0)
	}
}

// gone: the pod object was removed; make sure nothing of it still runs, and forget its files.
func (p *podState) gone() {
	p.kill()
	_ = os.RemoveAll(p.dir)
}

func (p *podState) statusChanged() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// statusLoop posts the pod status after each change, coalescing bursts, until the pod is gone.
func (p *podState) statusLoop() {
	for {
		select {
		case <-p.quit:
			return
		case <-p.kick:
			p.postStatus()
		}
	}
}

func (p *podState) postStatus() {
	p.mu.Lock()
	deleted := p.deleted
	p.mu.Unlock()
	if deleted {
		return
	}
	pods := p.k.cs.CoreV1().Pods(p.namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := pods.Get(context.Background(), p.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pod.UID != p.uid {
			return nil
		}
		pod.Status = p.status(pod.Status)
		_, err = pods.UpdateStatus(context.Background(), pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		logf("posting the status of pod %s/%s: %v", p.namespace, p.name, err)
	}
}

// status is the pod's status from its containers' states, keeping what others own (qosClass, conditions set by
// other writers such as PodScheduled).
func (p *podState) status(old corev1.PodStatus) corev1.PodStatus {
	now := metav1.Now()
	p.mu.Lock()
	failedToStart := p.terminating
	p.mu.Unlock()
	st := corev1.PodStatus{
		QOSClass:           old.QOSClass,
		HostIP:             p.k.opts.address,
		HostIPs:            []corev1.HostIP{{IP: p.k.opts.address}},
		PodIP:              p.k.opts.address,
		PodIPs:             []corev1.PodIP{{IP: p.k.opts.address}},
		StartTime:          &p.startTime,
		ObservedGeneration: p.pod.Generation,
	}
	running, restarting, waiting, succeeded, failed, allReady := 0, 0, 0, 0, 0, true
	for _, c := range p.containers {
		cs, final := c.status()
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil && final && cs.State.Terminated.ExitCode == 0:
			succeeded++
		case cs.State.Terminated != nil && final:
			failed++
		case cs.RestartCount > 0 || cs.LastTerminationState.Terminated != nil || cs.State.Terminated != nil:
			restarting++ // between two runs: the pod keeps running
		default:
			waiting++
		}
		if !cs.Ready {
			allReady = false
		}
	}
	n := len(p.containers)
	switch {
	case failedToStart && running == 0 && waiting == n:
		st.Phase, st.Reason, st.Message = corev1.PodFailed, "Unsupported", st.ContainerStatuses[0].State.Waiting.Message
	case succeeded == n:
		st.Phase = corev1.PodSucceeded
	case succeeded+failed == n:
		st.Phase = corev1.PodFailed
	case running+restarting > 0 || succeeded+failed > 0:
		st.Phase = corev1.PodRunning
	default:
		st.Phase = corev1.PodPending
	}
	ready := allReady && st.Phase == corev1.PodRunning
	cond := func(t corev1.PodConditionType, ok bool, reason string) corev1.PodCondition {
		status := corev1.ConditionFalse
		if ok {
			status = corev1.ConditionTrue
		}
		c := corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: now}
		for _, prev := range old.Conditions {
			if prev.Type == t && prev.Status == status {
				c.LastTransitionTime = prev.LastTransitionTime
			}
		}
		return c
	}
	notReadyReason := ""
	if !ready {
		notReadyReason = "ContainersNotReady"
		if st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed {
			notReadyReason = "PodCompleted"
		}
	}
	st.Conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, st.Phase != corev1.PodSucceeded && st.Phase != corev1.PodFailed, ""),
		cond(corev1.PodInitialized, true, ""),
		cond(corev1.PodReady, ready, notReadyReason),
		cond(corev1.ContainersReady, ready, notReadyReason),
	}
	for _, prev := range old.Conditions {
		switch prev.Type {
		case corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady:
		default:
			st.Conditions = append(st.Conditions, prev)
		}
	}
	return st
}
