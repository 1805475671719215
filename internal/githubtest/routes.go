package githubtest

import (
	"net/url"
	"strings"
)

// routeTrie maps request paths to the OpenAPI path templates of GitHub's
// description. Literal segments win over parameters, parameters over
// multi-segment parameters (GitHub's x-multi-segment, e.g. refs with '/').
type routeTrie struct {
	root *trieNode
}

type trieNode struct {
	lit   map[string]*trieNode
	param *trieNode // one segment
	multi *trieNode // one or more segments
	// template and names are set on nodes where a path template ends.
	template string
	names    []string
}

func newTrieNode() *trieNode { return &trieNode{lit: map[string]*trieNode{}} }

func newRouteTrie(templates []rawTemplate) *routeTrie {
	rt := &routeTrie{root: newTrieNode()}
	for _, t := range templates {
		rt.add(t.path, t.multi)
	}
	return rt
}

func (rt *routeTrie) add(template string, multi map[string]bool) {
	n := rt.root
	var names []string
	for _, seg := range strings.Split(strings.Trim(template, "/"), "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := seg[1 : len(seg)-1]
			names = append(names, name)
			if multi[name] {
				if n.multi == nil {
					n.multi = newTrieNode()
				}
				n = n.multi
			} else {
				if n.param == nil {
					n.param = newTrieNode()
				}
				n = n.param
			}
			continue
		}
		c := n.lit[seg]
		if c == nil {
			c = newTrieNode()
			n.lit[seg] = c
		}
		n = c
	}
	n.template = template
	n.names = names
}

// match finds the template for an escaped request path and returns it with
// its decoded path parameters. ok is false if no template matches.
func (rt *routeTrie) match(escapedPath string) (template string, params map[string]string, ok bool) {
	raw := strings.Split(strings.Trim(escapedPath, "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", nil, false
		}
		segs[i] = u
	}
	var values []string
	n := rt.root.find(segs, &values)
	if n == nil {
		return "", nil, false
	}
	params = make(map[string]string, len(n.names))
	for i, name := range n.names {
		if i < len(values) {
			params[name] = values[i]
		}
	}
	return n.template, params, true
}

func (n *trieNode) find(segs []string, values *[]string) *trieNode {
	if len(segs) == 0 {
		if n.template != "" {
			return n
		}
		return nil
	}
	if c := n.lit[segs[0]]; c != nil {
		if r := c.find(segs[1:], values); r != nil {
			return r
		}
	}
	if n.param != nil && segs[0] != "" {
		*values = append(*values, segs[0])
		if r := n.param.find(segs[1:], values); r != nil {
			return r
		}
		*values = (*values)[:len(*values)-1]
	}
	if n.multi != nil && segs[0] != "" {
		// Shortest consumption first, so a more specific suffix wins
		// (commits/{ref}/status before commits/{ref} with ref "x/status").
		for k := 1; k <= len(segs); k++ {
			*values = append(*values, strings.Join(segs[:k], "/"))
			if r := n.multi.find(segs[k:], values); r != nil {
				return r
			}
			*values = (*values)[:len(*values)-1]
		}
	}
	return nil
}
