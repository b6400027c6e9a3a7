// Command oracle reports what client-go v0.37.2 and apimachinery make of the differential corpus of
// test/conformance: it reads one JSON request on stdin and writes one JSON response on stdout. It reports values
// normalized the way the comparison test expects (digests instead of credentials, what a client would really use
// instead of the raw rest.Config fields); the test does the comparing.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

type request struct {
	Kubeconfig []kubeconfigCase `json:"kubeconfig"`
	Labels     []selectorCase   `json:"labels"`
	Fields     []selectorCase   `json:"fields"`
	Quantities []quantityCase   `json:"quantities"`
}

type response struct {
	Kubeconfig map[string]*kubeconfigResult `json:"kubeconfig"`
	Labels     map[string]*selectorResult   `json:"labels"`
	Fields     map[string]*selectorResult   `json:"fields"`
	Quantities map[string]*quantityResult   `json:"quantities"`
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var req request
	if err := json.Unmarshal(input, &req); err != nil {
		fail(err)
	}
	// The loading rules fall back to the in-cluster configuration when these are set: never, here.
	_ = os.Unsetenv("KUBERNETES_SERVICE_HOST")
	_ = os.Unsetenv("KUBERNETES_SERVICE_PORT")
	res := response{
		Kubeconfig: map[string]*kubeconfigResult{},
		Labels:     map[string]*selectorResult{},
		Fields:     map[string]*selectorResult{},
		Quantities: map[string]*quantityResult{},
	}
	for _, c := range req.Kubeconfig {
		res.Kubeconfig[c.ID] = runKubeconfig(c)
	}
	for _, c := range req.Labels {
		res.Labels[c.ID] = runLabelSelector(c)
	}
	for _, c := range req.Fields {
		res.Fields[c.ID] = runFieldSelector(c)
	}
	for _, c := range req.Quantities {
		res.Quantities[c.ID] = runQuantity(c)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	if err := out.Encode(res); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "oracle:", err)
	os.Exit(1)
}
