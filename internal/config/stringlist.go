package config

import "gopkg.in/yaml.v3"

// StringList is a setting written as one value or as a list of values
// (`invalidate: cloudfront://E1` or `invalidate: [cloudfront://E1, …]`);
// either way it decodes to the list, each value ${VAR}-expanded. Empty
// values (an unset ${VAR} without a default) are dropped.
type StringList []string

// unmarshalNode decodes one scalar or a list of scalars.
func (l *StringList) unmarshalNode(d *decoder, n *yaml.Node, path string) {
	if isNull(n) {
		return
	}
	add := func(el *yaml.Node, p string) {
		if s, ok := d.scalar(el, p, false); ok && s != "" {
			*l = append(*l, s)
		}
	}
	if n.Kind != yaml.SequenceNode {
		add(n, path)
		return
	}
	for i, el := range n.Content {
		p := indexPath(path, i)
		d.probs.pos[p] = nodePos(el)
		if el = d.enter(el, p); el != nil {
			add(el, p)
		}
	}
}
