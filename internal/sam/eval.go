package sam

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// where locates a value being evaluated, for error messages.
type where struct {
	section  string // "Conditions.IsProd", … (outside Resources)
	resource string // logical ID
	prop     string // dotted property path
	// fromGlobals marks a property whose whole value comes from
	// Globals.Function.
	fromGlobals bool
}

func (w where) key(k string) where {
	if w.prop == "" {
		w.prop = k
	} else {
		w.prop += "." + k
	}
	return w
}

func (w where) index(i int) where {
	w.prop += "[" + strconv.Itoa(i) + "]"
	return w
}

// errAt builds an *Error located at w.
func (p *parser) errAt(w where, n *yaml.Node, format string, args ...any) *Error {
	if w.fromGlobals {
		format += " (inherited from Globals.Function)"
	}
	return &Error{File: p.file, Section: w.section, Resource: w.resource, Property: w.prop, Line: line(n), Err: fmt.Errorf(format, args...)}
}

// pseudo parameters that have a fixed value.
func (p *parser) pseudo(name string) (*yaml.Node, bool) {
	switch name {
	case "AWS::Region":
		return strNode(p.opts.Region), true
	case "AWS::AccountId":
		return strNode(p.opts.AccountID), true
	case "AWS::StackName":
		return strNode(p.opts.StackName), true
	case "AWS::Partition":
		return strNode(p.opts.Partition), true
	case "AWS::URLSuffix":
		if strings.HasPrefix(p.opts.Partition, "aws-cn") {
			return strNode("amazonaws.com.cn"), true
		}
		return strNode("amazonaws.com"), true
	case "AWS::StackId":
		return strNode(fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000",
			p.opts.Partition, p.opts.Region, p.opts.AccountID, p.opts.StackName)), true
	case "AWS::NotificationARNs":
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}, true
	}
	return nil, false
}

// intrinsicOf recognizes an intrinsic function call: a short-form tag
// (!Sub …) or a one-key mapping whose key is Ref or Fn::*. It returns the
// long name ("Fn::Sub"), the name as written (for messages) and the
// argument.
func intrinsicOf(n *yaml.Node) (name, display string, arg *yaml.Node, ok bool) {
	if n == nil {
		return "", "", nil, false
	}
	if tag := n.Tag; strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		short := tag[1:]
		name = "Fn::" + short
		if short == "Ref" || short == "Condition" {
			name = short
		}
		a := *n
		switch n.Kind {
		case yaml.ScalarNode:
			a.Tag = "!!str"
		case yaml.SequenceNode:
			a.Tag = "!!seq"
		case yaml.MappingNode:
			a.Tag = "!!map"
		}
		return name, tag, &a, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		k := n.Content[0].Value
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, k, n.Content[1], true
		}
	}
	return "", "", nil, false
}

// eval evaluates the intrinsic functions in n. The result is a tree of
// plain nodes; nil means "no value" (AWS::NoValue), and such members are
// dropped from their mapping or list.
func (p *parser) eval(w where, n *yaml.Node) (*yaml.Node, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if name, display, arg, ok := intrinsicOf(n); ok {
		return p.intrinsic(w, name, display, deref(arg), n)
	}
	switch n.Kind {
	case yaml.SequenceNode:
		out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: n.Line, Column: n.Column}
		for i, c := range n.Content {
			v, err := p.eval(w.index(i), c)
			if err != nil {
				return nil, err
			}
			if v != nil {
				out.Content = append(out.Content, v)
			}
		}
		return out, nil
	case yaml.MappingNode:
		out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			v, err := p.eval(w.key(k.Value), n.Content[i+1])
			if err != nil {
				return nil, err
			}
			if v != nil {
				out.Content = append(out.Content, k, v)
			}
		}
		return out, nil
	default:
		c := *n
		return &c, nil
	}
}

// intrinsic evaluates one intrinsic function call.
func (p *parser) intrinsic(w where, name, display string, arg, at *yaml.Node) (*yaml.Node, error) {
	switch name {
	case "Ref":
		if arg == nil || arg.Kind != yaml.ScalarNode || arg.Value == "" {
			return nil, p.errAt(w, at, "%s: the argument must be a parameter or resource name, got %s", display, describe(arg))
		}
		return p.ref(w, display+" "+arg.Value, arg.Value, at)
	case "Fn::Sub":
		return p.sub(w, display, arg, at)
	case "Fn::GetAtt":
		return p.getAtt(w, display, arg, at)
	case "Fn::Join":
		args, err := p.args(w, display, arg, at, 2, 2)
		if err != nil {
			return nil, err
		}
		sep, err := p.evalString(w, display+" delimiter", args[0])
		if err != nil {
			return nil, err
		}
		list, err := p.evalStrings(w, display, args[1])
		if err != nil {
			return nil, err
		}
		return strNode(strings.Join(list, sep)), nil
	case "Fn::Select":
		args, err := p.args(w, display, arg, at, 2, 2)
		if err != nil {
			return nil, err
		}
		is, err := p.evalString(w, display+" index", args[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, p.errAt(w, at, "%s: the index must be an integer, got %q", display, is)
		}
		list, err := p.eval(w, args[1])
		if err != nil {
			return nil, err
		}
		if list == nil || list.Kind != yaml.SequenceNode {
			return nil, p.errAt(w, at, "%s: the second argument must be a list, got %s", display, describe(list))
		}
		if i < 0 || i >= len(list.Content) {
			return nil, p.errAt(w, at, "%s: index %d is out of range for a list of %d", display, i, len(list.Content))
		}
		return list.Content[i], nil
	case "Fn::Split":
		args, err := p.args(w, display, arg, at, 2, 2)
		if err != nil {
			return nil, err
		}
		sep, err := p.evalString(w, display+" delimiter", args[0])
		if err != nil {
			return nil, err
		}
		s, err := p.evalString(w, display, args[1])
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return nil, p.errAt(w, at, "%s: the delimiter must not be empty", display)
		}
		out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, part := range strings.Split(s, sep) {
			out.Content = append(out.Content, strNode(part))
		}
		return out, nil
	case "Fn::Base64":
		s, err := p.evalString(w, display, arg)
		if err != nil {
			return nil, err
		}
		return strNode(base64.StdEncoding.EncodeToString([]byte(s))), nil
	case "Fn::If":
		args, err := p.args(w, display, arg, at, 3, 3)
		if err != nil {
			return nil, err
		}
		c := deref(args[0])
		if c == nil || c.Kind != yaml.ScalarNode {
			return nil, p.errAt(w, at, "%s: the first argument must be a condition name, got %s", display, describe(c))
		}
		ok, err := p.condition(c.Value)
		if err != nil {
			return nil, err
		}
		if ok {
			return p.eval(w, args[1])
		}
		return p.eval(w, args[2])
	case "Fn::FindInMap":
		return p.findInMap(w, display, arg, at)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		return nil, p.errAt(w, at, "%s is a condition function: use it in Conditions, and Fn::If to choose a value", display)
	}
	return nil, p.errAt(w, at, "%s is not supported by duro (supported: Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Base64, Fn::If, Fn::FindInMap)", display)
}

// args checks that arg is a list of min..max members.
func (p *parser) args(w where, display string, arg, at *yaml.Node, min, max int) ([]*yaml.Node, error) {
	if arg == nil || arg.Kind != yaml.SequenceNode || len(arg.Content) < min || len(arg.Content) > max {
		want := fmt.Sprintf("a list of %d", min)
		if max != min {
			want = fmt.Sprintf("a list of %d to %d", min, max)
		}
		return nil, p.errAt(w, at, "%s: the argument must be %s, got %s", display, want, describe(arg))
	}
	return arg.Content, nil
}

func (p *parser) evalString(w where, display string, n *yaml.Node) (string, error) {
	v, err := p.eval(w, n)
	if err != nil {
		return "", err
	}
	if v == nil || v.Kind != yaml.ScalarNode || isNull(v) {
		return "", p.errAt(w, n, "%s: must be a string, got %s", display, describe(v))
	}
	return v.Value, nil
}

func (p *parser) evalStrings(w where, display string, n *yaml.Node) ([]string, error) {
	v, err := p.eval(w, n)
	if err != nil {
		return nil, err
	}
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil, p.errAt(w, n, "%s: must be a list, got %s", display, describe(v))
	}
	out := make([]string, 0, len(v.Content))
	for _, c := range v.Content {
		if c.Kind != yaml.ScalarNode || isNull(c) {
			return nil, p.errAt(w, c, "%s: list members must be strings, got %s", display, describe(c))
		}
		out = append(out, c.Value)
	}
	return out, nil
}

// implicitRole reports whether id names the role SAM creates for a
// function that does not set Role ({LogicalID}Role).
func (p *parser) implicitRole(id string) bool {
	fnID, ok := strings.CutSuffix(id, "Role")
	if !ok {
		return false
	}
	r := p.resources[fnID]
	return r != nil && r.typ == TypeServerlessFunction && mapGet(r.props, "Role") == nil
}

// ref evaluates Ref target; expr is the expression as written, for
// messages.
func (p *parser) ref(w where, expr, target string, at *yaml.Node) (*yaml.Node, error) {
	if target == "AWS::NoValue" {
		return nil, nil
	}
	if v, ok := p.pseudo(target); ok {
		return v, nil
	}
	if v, ok := p.params[target]; ok {
		c := *v
		return &c, nil
	}
	if r, ok := p.resources[target]; ok {
		if isFunctionType(r.typ) {
			name, err := p.liveFunctionName(w, expr, r, at)
			if err != nil {
				return nil, err
			}
			return strNode(name), nil
		}
		p.warnPlaceholder(w, expr, r.typ, target)
		return strNode(target), nil
	}
	if p.implicitRole(target) {
		return strNode(target), nil
	}
	if strings.HasPrefix(target, "AWS::") {
		return nil, p.errAt(w, at, "%s: unknown pseudo parameter", expr)
	}
	return nil, p.errAt(w, at, "%s: no parameter or resource of that name", expr)
}

// liveFunctionName is a function resource's name, provided it is created.
func (p *parser) liveFunctionName(w where, what string, r *resource, at *yaml.Node) (string, error) {
	ok, err := p.created(r)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", p.errAt(w, at, "%s: resource %s is not created (its condition %s is false)", what, r.id, r.condition)
	}
	name, err := p.functionName(r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return "", err
		}
		return "", p.errAt(w, at, "%s: %v", what, err)
	}
	return name, nil
}

func (p *parser) warnPlaceholder(w where, expr, typ, value string) {
	loc := "resource " + w.resource
	if w.section != "" {
		loc = w.section
	}
	if w.prop != "" {
		loc += ": property " + w.prop
	}
	p.warn("%s: %s refers to a resource of type %s, which duro does not run; it evaluates to %q", loc, expr, typ, value)
}

// getAtt evaluates Fn::GetAtt in its "X.Attr" and [X, Attr] forms.
func (p *parser) getAtt(w where, display string, arg, at *yaml.Node) (*yaml.Node, error) {
	var id, attr string
	switch {
	case arg != nil && arg.Kind == yaml.ScalarNode:
		var ok bool
		id, attr, ok = strings.Cut(arg.Value, ".")
		if !ok || id == "" || attr == "" {
			return nil, p.errAt(w, at, "%s %s: must be LogicalId.Attribute", display, arg.Value)
		}
	case arg != nil && arg.Kind == yaml.SequenceNode && len(arg.Content) == 2:
		first := deref(arg.Content[0])
		if first == nil || first.Kind != yaml.ScalarNode {
			return nil, p.errAt(w, at, "%s: the resource must be a logical ID, got %s", display, describe(first))
		}
		id = first.Value
		a, err := p.evalString(w, display+" attribute", arg.Content[1])
		if err != nil {
			return nil, err
		}
		attr = a
	default:
		return nil, p.errAt(w, at, "%s: the argument must be LogicalId.Attribute or [LogicalId, Attribute], got %s", display, describe(arg))
	}
	return p.attribute(w, fmt.Sprintf("%s %s.%s", display, id, attr), id, attr, at)
}

// attribute evaluates GetAtt id.attr; expr is the expression as written,
// for messages.
func (p *parser) attribute(w where, expr, id, attr string, at *yaml.Node) (*yaml.Node, error) {
	r, ok := p.resources[id]
	switch {
	case ok && isFunctionType(r.typ):
		if attr != "Arn" {
			return nil, p.errAt(w, at, "%s: unsupported attribute of a function (duro supports Arn)", expr)
		}
		name, err := p.liveFunctionName(w, expr, r, at)
		if err != nil {
			return nil, err
		}
		return strNode(p.functionArn(name)), nil
	case ok && isCapacityProviderType(r.typ) && attr == "Arn":
		name := id
		if n := mapGet(r.props, "CapacityProviderName"); n != nil && n.Kind == yaml.ScalarNode && !isIntrinsic(n) && n.Value != "" {
			name = n.Value
		}
		return strNode(p.capacityProviderArn(name)), nil
	case ok && r.typ == "AWS::IAM::Role" && attr == "Arn":
		name := id
		if rn := mapGet(r.props, "RoleName"); rn != nil && rn.Kind == yaml.ScalarNode && !isIntrinsic(rn) && rn.Value != "" {
			name = rn.Value
		}
		return strNode(p.roleArn(name)), nil
	case ok:
		v := id + "." + attr
		p.warnPlaceholder(w, expr, r.typ, v)
		return strNode(v), nil
	case p.implicitRole(id) && attr == "Arn":
		return strNode(p.roleArn(id)), nil
	}
	return nil, p.errAt(w, at, "%s: no resource named %s", expr, id)
}

// isCapacityProviderType reports the resource types of a capacity
// provider (Lambda Managed Instances): nothing Duro provisions, but a
// function's CapacityProviderConfig names one by its ARN.
func isCapacityProviderType(typ string) bool {
	return typ == "AWS::Serverless::CapacityProvider" || typ == "AWS::Lambda::CapacityProvider"
}

// sub evaluates Fn::Sub.
func (p *parser) sub(w where, display string, arg, at *yaml.Node) (*yaml.Node, error) {
	var tmpl string
	var vars *yaml.Node
	switch {
	case arg != nil && arg.Kind == yaml.ScalarNode:
		tmpl = arg.Value
	case arg != nil && arg.Kind == yaml.SequenceNode && len(arg.Content) == 2:
		t := deref(arg.Content[0])
		if t == nil || t.Kind != yaml.ScalarNode {
			return nil, p.errAt(w, at, "%s: the first member must be a string, got %s", display, describe(t))
		}
		tmpl = t.Value
		vars = deref(arg.Content[1])
		if vars == nil || vars.Kind != yaml.MappingNode {
			return nil, p.errAt(w, at, "%s: the second member must be a mapping of variables, got %s", display, describe(vars))
		}
	default:
		return nil, p.errAt(w, at, "%s: the argument must be a string or [string, {variables}], got %s", display, describe(arg))
	}
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		rest = rest[i+2:]
		if strings.HasPrefix(rest, "!") {
			// ${!Literal} is the literal text ${Literal}.
			b.WriteString("${")
			rest = rest[1:]
			continue
		}
		j := strings.Index(rest, "}")
		if j < 0 {
			return nil, p.errAt(w, at, "%s: unterminated ${ in %q", display, tmpl)
		}
		name := strings.TrimSpace(rest[:j])
		rest = rest[j+1:]
		if name == "" {
			return nil, p.errAt(w, at, "%s: empty ${} in %q", display, tmpl)
		}
		s, err := p.subVar(w, display, name, vars, at)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return strNode(b.String()), nil
}

func (p *parser) subVar(w where, display, name string, vars, at *yaml.Node) (string, error) {
	var v *yaml.Node
	var err error
	expr := fmt.Sprintf("%s ${%s}", display, name)
	if vn := mapGet(vars, name); vn != nil {
		v, err = p.eval(w, vn)
	} else if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
		v, err = p.attribute(w, expr, id, attr, at)
	} else {
		v, err = p.ref(w, expr, name, at)
	}
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", nil
	}
	if v.Kind != yaml.ScalarNode {
		return "", p.errAt(w, at, "%s: evaluates to %s, not a string (use Fn::Join for lists)", expr, describe(v))
	}
	return v.Value, nil
}

// findInMap evaluates Fn::FindInMap [Map, TopKey, SecondKey] (with the
// optional {DefaultValue: …} fourth member of the language extensions).
func (p *parser) findInMap(w where, display string, arg, at *yaml.Node) (*yaml.Node, error) {
	args, err := p.args(w, display, arg, at, 3, 4)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 3)
	for i := range keys {
		if keys[i], err = p.evalString(w, display, args[i]); err != nil {
			return nil, err
		}
	}
	var v *yaml.Node
	if m := mapGet(p.mappings, keys[0]); m != nil {
		if top := mapGet(m, keys[1]); top != nil {
			v = mapGet(top, keys[2])
		}
	}
	if v == nil {
		if len(args) == 4 {
			if d := mapGet(deref(args[3]), "DefaultValue"); d != nil {
				return p.eval(w, d)
			}
		}
		return nil, p.errAt(w, at, "%s: Mappings has no %s.%s.%s", display, keys[0], keys[1], keys[2])
	}
	return p.eval(w, v)
}

// condition evaluates (and memoizes) a named condition.
func (p *parser) condition(name string) (bool, error) {
	if v, ok := p.condValue[name]; ok {
		return v, nil
	}
	n, ok := p.conditions[name]
	if !ok {
		return false, &Error{File: p.file, Section: "Conditions", Err: fmt.Errorf("no condition named %q", name)}
	}
	w := where{section: "Conditions." + name}
	if p.condBusy[name] {
		return false, p.errAt(w, n, "the condition refers to itself")
	}
	p.condBusy[name] = true
	defer delete(p.condBusy, name)
	v, err := p.condExpr(w, n)
	if err != nil {
		return false, err
	}
	p.condValue[name] = v
	return v, nil
}

// condExpr evaluates a condition function.
func (p *parser) condExpr(w where, n *yaml.Node) (bool, error) {
	n = deref(n)
	if n != nil && n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Condition" {
		c := deref(n.Content[1])
		if c == nil || c.Kind != yaml.ScalarNode {
			return false, p.errAt(w, n, "Condition: the argument must be a condition name, got %s", describe(c))
		}
		return p.condition(c.Value)
	}
	name, display, arg, ok := intrinsicOf(n)
	if !ok {
		if n != nil && n.Kind == yaml.ScalarNode && (n.Value == "true" || n.Value == "false") {
			return n.Value == "true", nil
		}
		return false, p.errAt(w, n, "must be a condition function (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition), got %s", describe(n))
	}
	arg = deref(arg)
	switch name {
	case "Condition":
		if arg == nil || arg.Kind != yaml.ScalarNode {
			return false, p.errAt(w, n, "%s: the argument must be a condition name, got %s", display, describe(arg))
		}
		return p.condition(arg.Value)
	case "Fn::Equals":
		args, err := p.args(w, display, arg, n, 2, 2)
		if err != nil {
			return false, err
		}
		a, err := p.eval(w, args[0])
		if err != nil {
			return false, err
		}
		b, err := p.eval(w, args[1])
		if err != nil {
			return false, err
		}
		return canonical(a) == canonical(b), nil
	case "Fn::Not":
		args, err := p.args(w, display, arg, n, 1, 1)
		if err != nil {
			return false, err
		}
		v, err := p.condExpr(w, args[0])
		return !v, err
	case "Fn::And", "Fn::Or":
		args, err := p.args(w, display, arg, n, 2, 10)
		if err != nil {
			return false, err
		}
		and := name == "Fn::And"
		for _, a := range args {
			v, err := p.condExpr(w, a)
			if err != nil {
				return false, err
			}
			if v != and {
				return v, nil
			}
		}
		return and, nil
	}
	return false, p.errAt(w, n, "%s cannot be used as a condition (use Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition)", display)
}

// canonical renders an evaluated value for Fn::Equals.
func canonical(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return "s:" + n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = canonical(c)
		}
		return "l:[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf("?%v", toAny(n))
}
