package main

import (
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

type selectorCase struct {
	ID       string              `json:"id"`
	Selector string              `json:"selector"`
	Sets     []map[string]string `json:"sets"`
}

// selectorResult: Error when the parser refuses the selector; else its canonical text ("" included) and one match
// per set.
type selectorResult struct {
	Error   bool   `json:"error"`
	String  string `json:"string"`
	Empty   bool   `json:"empty,omitempty"`
	Matches []bool `json:"matches,omitempty"`
}

func runLabelSelector(c selectorCase) *selectorResult {
	sel, err := labels.Parse(c.Selector)
	if err != nil {
		return &selectorResult{Error: true, String: ""}
	}
	res := &selectorResult{String: sel.String(), Empty: sel.Empty(), Matches: []bool{}}
	for _, set := range c.Sets {
		res.Matches = append(res.Matches, sel.Matches(labels.Set(set)))
	}
	return res
}

func runFieldSelector(c selectorCase) *selectorResult {
	sel, err := fields.ParseSelector(c.Selector)
	if err != nil {
		return &selectorResult{Error: true, String: ""}
	}
	res := &selectorResult{String: sel.String(), Empty: sel.Empty(), Matches: []bool{}}
	for _, set := range c.Sets {
		res.Matches = append(res.Matches, sel.Matches(fields.Set(set)))
	}
	return res
}

type quantityCase struct {
	ID    string `json:"id"`
	Value string `json:"value"`
	Other string `json:"other,omitempty"`
}

// quantityResult: Error when ParseQuantity refuses Value; OtherError when it refuses Other. Value and MilliValue are
// decimal strings (int64 in Go; bigint on the other side).
type quantityResult struct {
	Error      bool   `json:"error"`
	String     string `json:"string,omitempty"`
	Value      string `json:"value,omitempty"`
	MilliValue string `json:"milliValue,omitempty"`
	OtherError bool   `json:"otherError,omitempty"`
	Cmp        *int   `json:"cmp,omitempty"`
	Add        string `json:"add,omitempty"`
	Sub        string `json:"sub,omitempty"`
}

func runQuantity(c quantityCase) *quantityResult {
	q, err := resource.ParseQuantity(c.Value)
	if err != nil {
		return &quantityResult{Error: true}
	}
	res := &quantityResult{
		String:     q.String(),
		Value:      itoa(q.Value()),
		MilliValue: itoa(q.MilliValue()),
	}
	if c.Other == "" {
		return res
	}
	o, err := resource.ParseQuantity(c.Other)
	if err != nil {
		res.OtherError = true
		return res
	}
	cmp := q.Cmp(o)
	res.Cmp = &cmp
	sum := q.DeepCopy()
	sum.Add(o)
	res.Add = sum.String()
	diff := q.DeepCopy()
	diff.Sub(o)
	res.Sub = diff.String()
	return res
}
