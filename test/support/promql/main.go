// Command promql-names parses PromQL expressions with Prometheus' own parser, for kubeloop's monitoring test
// (test/integration/monitoring.test.ts): it reads a JSON array of expressions on stdin and writes, for each, the
// metric names and label names it uses, or the parse error.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/promql/parser"
)

type result struct {
	Error   string   `json:"error,omitempty"`
	Metrics []string `json:"metrics"`
	Labels  []string `json:"labels"`
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func names(p parser.Parser, input string) result {
	expr, err := p.ParseExpr(input)
	if err != nil {
		return result{Error: err.Error(), Metrics: []string{}, Labels: []string{}}
	}
	metrics, labels := map[string]bool{}, map[string]bool{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			if n.Name != "" {
				metrics[n.Name] = true
			}
			for _, m := range n.LabelMatchers {
				if m.Name != "__name__" {
					labels[m.Name] = true
				}
			}
		case *parser.AggregateExpr:
			for _, l := range n.Grouping {
				labels[l] = true
			}
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				for _, l := range n.VectorMatching.MatchingLabels {
					labels[l] = true
				}
				for _, l := range n.VectorMatching.Include {
					labels[l] = true
				}
			}
		}
		return nil
	})
	return result{Metrics: sorted(metrics), Labels: sorted(labels)}
}

func main() {
	var inputs []string
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		fmt.Fprintf(os.Stderr, "promql-names: stdin is not a JSON array of strings: %v\n", err)
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	out := make([]result, len(inputs))
	for i, input := range inputs {
		out[i] = names(p, input)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
