package main

import (
	"encoding/json"
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
)

// s2Params adds the initial-list strategy to the common parameters.
type s2Params struct {
	params
	Strategy string `json:"strategy"` // watch-list | list-500 | list-all
}

func init() { scenarios["s2"] = runS2 }

// runS2: S1's cold sync with a given initial-list strategy. WatchList is client-go's WatchListClient feature (an
// environment feature gate, read once on first use); the LISTs are the reflector's own pager with the page size
// forced, and resourceVersion "" (a consistent read), as kubeloop lists.
func runS2(raw []byte) {
	var p s2Params
	if err := json.Unmarshal(raw, &p); err != nil {
		panic(err)
	}
	_ = os.Setenv("KUBE_FEATURE_WatchListClient", fmt.Sprint(p.Strategy == "watch-list"))
	limit := map[string]int64{"list-500": 500, "list-all": 0}[p.Strategy]
	coldSync(p.params, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		if !o.Watch && p.Strategy != "watch-list" {
			o.ResourceVersion = ""
			o.Limit = limit
		}
	}))
}
