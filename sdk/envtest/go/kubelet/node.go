package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

const leaseNamespace = "kube-node-lease"

// nodeStatus is the Node's whole status: Ready, reachable on --address:--port.
func (k *kubelet) nodeStatus(now metav1.Time) corev1.NodeStatus {
	condition := func(t corev1.NodeConditionType, status corev1.ConditionStatus, reason, message string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: status, Reason: reason, Message: message, LastHeartbeatTime: now, LastTransitionTime: k.started}
	}
	resources := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(fmt.Sprint(runtime.NumCPU())),
		corev1.ResourceMemory:           resource.MustParse("8Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("20Gi"),
	}
	return corev1.NodeStatus{
		Capacity:    resources,
		Allocatable: resources,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			condition(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			condition(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			condition(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			condition(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubeloop's test kubelet is posting ready status"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: k.opts.address},
			{Type: corev1.NodeHostName, Address: k.opts.nodeName},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(k.opts.port)}},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          k.opts.kubeletVersion,
			OperatingSystem:         runtime.GOOS,
			Architecture:            runtime.GOARCH,
			ContainerRuntimeVersion: "kubeloop://processes",
			OSImage:                 "local processes (kubeloop test kubelet)",
		},
	}
}

// registerNode creates the Node (or takes over one of the same name left by an earlier run) and sets its status.
func (k *kubelet) registerNode(ctx context.Context) error {
	nodes := k.cs.CoreV1().Nodes()
	now := metav1.Now()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: k.opts.nodeName,
			Labels: map[string]string{
				"kubernetes.io/hostname": k.opts.nodeName,
				"kubernetes.io/os":       runtime.GOOS,
				"kubernetes.io/arch":     runtime.GOARCH,
			},
		},
	}
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = nodes.Get(ctx, k.opts.nodeName, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("registering node %s: %w", k.opts.nodeName, err)
	}
	k.nodeUID = created.UID
	if err := k.updateNodeStatus(ctx, now); err != nil {
		return err
	}
	return k.renewLease(ctx)
}

func (k *kubelet) updateNodeStatus(ctx context.Context, now metav1.Time) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := k.cs.CoreV1().Nodes().Get(ctx, k.opts.nodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		node.Status = k.nodeStatus(now)
		_, err = k.cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

// renewLease keeps kube-node-lease/<node> fresh, as a kubelet's heartbeat.
func (k *kubelet) renewLease(ctx context.Context) error {
	leases := k.cs.CoordinationV1().Leases(leaseNamespace)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, k.opts.nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name: k.opts.nodeName,
				OwnerReferences: []metav1.OwnerReference{
					{APIVersion: "v1", Kind: "Node", Name: k.opts.nodeName, UID: k.nodeUID},
				},
			},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(k.opts.nodeName),
				LeaseDurationSeconds: ptr.To(int32(4 * k.opts.heartbeatSeconds)),
				RenewTime:            &now,
			},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// heartbeat renews the Lease every --heartbeat-seconds and posts the node status every minute.
func (k *kubelet) heartbeat(ctx context.Context) {
	tick := time.NewTicker(time.Duration(k.opts.heartbeatSeconds) * time.Second)
	defer tick.Stop()
	lastStatus := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := k.renewLease(ctx); err != nil && ctx.Err() == nil {
			logf("renewing the node lease: %v", err)
		}
		if time.Since(lastStatus) >= time.Minute {
			if err := k.updateNodeStatus(ctx, metav1.Now()); err != nil && ctx.Err() == nil {
				logf("posting the node status: %v", err)
			}
			lastStatus = time.Now()
		}
	}
}
