package main

// S7 leader failover (bench/scenarios/s7.mjs): one replica of a leader-elected process, client-go's
// tools/leaderelection over a Lease with ReleaseOnCancel. The harness runs two of these at once and does not use the
// ready/go protocol: the replica prints JSON lines with wall-clock times (ms since the epoch) as things happen:
//
//	{"event":"started","identity":…}      once the elector runs
//	{"event":"newLeader","id":…,"t":…}    each time the observed holder changes
//	{"event":"leading","t":…}             OnStartedLeading
//	{"event":"stopped","t":…}             the leading context is done (leader-only work would stop here)
//	{"event":"released","t":…}            Run returned: after the release update (ReleaseOnCancel), then OnStoppedLeading
//
// The line "release" on stdin cancels the elector's context (a graceful stop); stdin closing ends the process.

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

type s7Params struct {
	Kubeconfig      string `json:"kubeconfig"`
	Proto           bool   `json:"proto"`
	Namespace       string `json:"namespace"`
	Lease           string `json:"lease"`
	Identity        string `json:"identity"`
	LeaseDurationMs int    `json:"leaseDurationMs"`
	RenewDeadlineMs int    `json:"renewDeadlineMs"`
	RetryPeriodMs   int    `json:"retryPeriodMs"`
}

func init() { scenarios["s7"] = runS7 }

func runS7(raw []byte) {
	var p s7Params
	if err := json.Unmarshal(raw, &p); err != nil {
		panic(err)
	}
	cs := kubernetes.NewForConfigOrDie(config(params{Kubeconfig: p.Kubeconfig, Proto: p.Proto}))
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			line, err := stdin.ReadString('\n')
			if err != nil {
				os.Exit(0) // the harness is done with this replica
			}
			if strings.TrimSpace(line) == "release" {
				cancel()
			}
		}
	}()
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Lease},
			Client:     cs.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: p.Identity},
		},
		LeaseDuration:   ms(p.LeaseDurationMs),
		RenewDeadline:   ms(p.RenewDeadlineMs),
		RetryPeriod:     ms(p.RetryPeriodMs),
		ReleaseOnCancel: true,
		Name:            p.Lease,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				emit(map[string]any{"event": "leading", "t": nowMs()})
				<-ctx.Done()
				emit(map[string]any{"event": "stopped", "t": nowMs()})
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				emit(map[string]any{"event": "newLeader", "id": id, "t": nowMs()})
			},
		},
	})
	if err != nil {
		panic(err)
	}
	emit(map[string]any{"event": "started", "identity": p.Identity, "t": nowMs()})
	le.Run(ctx)
	emit(map[string]any{"event": "released", "t": nowMs()})
	// Wait for stdin to close (the reader goroutine exits the process).
	select {}
}
