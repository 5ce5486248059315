package shape

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	maxDistinct = 16 // distinct values tracked per position (examples, enums)
	maxEnum     = 8  // at most this many distinct values form an enum
	minEnum     = 3  // an enum needs at least this many string values
	maxExamples = 3
)

// string format candidates, cleared as values disprove them
const (
	fmtDateTime uint8 = 1 << iota
	fmtEmail
	fmtURI
	fmtUUID
	fmtPrefix
	fmtAllStrings = fmtDateTime | fmtEmail | fmtURI | fmtUUID | fmtPrefix
)

// integer timestamp candidates
const (
	tsSeconds uint8 = 1 << iota
	tsMillis
)

type valCount struct {
	n   int
	seq int
	raw string // JSON text
}

// node accumulates the values seen at one position.
type node struct {
	name string

	count, null, bools, ints, nums, strs, objs, arrs int

	// present counts the objects that had this field, once each: a key repeated in one object
	// adds a value (count) but no presence. inObj is the walker's number of the object it was
	// last seen in.
	present int
	inObj   int

	fields map[string]*node
	elem   *node

	bigInt bool
	fmts   uint8
	prefix string
	ts     uint8

	strVals  map[string]*valCount
	litVals  map[string]*valCount
	overflow bool // more than maxDistinct distinct strings
	seq      int
}

func newNode(name string) *node {
	n := &node{name: name, fmts: fmtAllStrings}
	if isTimeName(name) {
		n.ts = tsSeconds | tsMillis
	}
	return n
}

func (n *node) child(key []byte) *node {
	if n.fields == nil {
		n.fields = make(map[string]*node)
	}
	c := n.fields[string(key)]
	if c == nil {
		k := string(key)
		c = newNode(k)
		n.fields[k] = c
	}
	return c
}

func (n *node) addString(b []byte) {
	n.strs++
	if n.fmts != 0 {
		if n.fmts&fmtDateTime != 0 && !isDateTime(b) {
			n.fmts &^= fmtDateTime
		}
		if n.fmts&fmtEmail != 0 && !isEmail(b) {
			n.fmts &^= fmtEmail
		}
		if n.fmts&fmtURI != 0 && !isURI(b) {
			n.fmts &^= fmtURI
		}
		if n.fmts&fmtUUID != 0 && !isUUID(b) {
			n.fmts &^= fmtUUID
		}
		if n.fmts&fmtPrefix != 0 {
			p := idPrefix(b)
			if n.strs == 1 {
				n.prefix = string(p)
			} else {
				n.prefix = commonPrefix(n.prefix, p)
			}
			if n.prefix == "" {
				n.fmts &^= fmtPrefix
			}
		}
	}
	if v := n.strVals[string(b)]; v != nil {
		v.n++
		return
	}
	if len(n.strVals) >= maxDistinct {
		n.overflow = true
		return
	}
	if n.strVals == nil {
		n.strVals = make(map[string]*valCount)
	}
	s := string(b)
	raw, _ := json.Marshal(s)
	n.seq++
	n.strVals[s] = &valCount{n: 1, seq: n.seq, raw: string(raw)}
}

func (n *node) addLiteral(b []byte) {
	if v := n.litVals[string(b)]; v != nil {
		v.n++
		return
	}
	if len(n.litVals) >= maxDistinct {
		return
	}
	if n.litVals == nil {
		n.litVals = make(map[string]*valCount)
	}
	n.seq++
	s := string(b)
	n.litVals[s] = &valCount{n: 1, seq: n.seq, raw: s}
}

func (n *node) addInteger(b []byte) {
	n.ints++
	digits := b
	neg := false
	if len(digits) > 0 && digits[0] == '-' {
		digits, neg = digits[1:], true
	}
	var v int64
	if len(digits) >= 19 {
		x, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			n.bigInt = true
			n.ts = 0
		}
		v = x
	} else {
		for _, c := range digits {
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
	}
	if n.ts != 0 {
		if v < 946684800 || v > 4102444800 { // 2000-01-01 .. 2100-01-01
			n.ts &^= tsSeconds
		}
		if v < 946684800000 || v > 4102444800000 {
			n.ts &^= tsMillis
		}
	}
	n.addLiteral(b)
}

// finish turns the accumulated node into a Shape.
func (n *node) finish() *Shape {
	s := &Shape{
		Count: n.count, Null: n.null, Boolean: n.bools, Integer: n.ints, Number: n.nums,
		String: n.strs, Object: n.objs, Array: n.arrs, BigInteger: n.bigInt,
	}
	if len(n.fields) > 0 {
		names := make([]string, 0, len(n.fields))
		for k := range n.fields {
			names = append(names, k)
		}
		sort.Strings(names)
		s.Fields = make([]*Field, len(names))
		for i, k := range names {
			c := n.fields[k]
			s.Fields[i] = &Field{Name: k, Shape: c.finish(), Present: c.present}
		}
	}
	if n.elem != nil {
		s.Items = n.elem.finish()
	}
	if n.strs > 0 {
		switch {
		case n.fmts&fmtUUID != 0:
			s.Format = FormatUUID
		case n.fmts&fmtDateTime != 0:
			s.Format = FormatDateTime
		case n.fmts&fmtEmail != 0:
			s.Format = FormatEmail
		case n.fmts&fmtURI != 0:
			s.Format = FormatURI
		}
		if n.fmts&fmtPrefix != 0 {
			s.Prefix = n.prefix
		}
		if s.Format == "" && s.Prefix == "" && !n.overflow && n.strs >= minEnum &&
			len(n.strVals) <= maxEnum {
			enum := make([]string, 0, len(n.strVals))
			ok := true
			for k, v := range n.strVals {
				if v.n < 2 {
					ok = false
				}
				enum = append(enum, k)
			}
			if ok && !(len(enum) == 1 && enum[0] == "") {
				sort.Strings(enum)
				s.Enum = enum
			}
		}
	} else if n.ints > 0 && n.nums == 0 && n.ts != 0 {
		if n.ts&tsSeconds != 0 {
			s.Format = FormatUnixSecond
		} else {
			s.Format = FormatUnixMilli
		}
	}
	if len(n.strVals)+len(n.litVals) > 0 {
		all := make([]*valCount, 0, len(n.strVals)+len(n.litVals))
		for _, v := range n.strVals {
			all = append(all, v)
		}
		for _, v := range n.litVals {
			all = append(all, v)
		}
		sort.Slice(all, func(i, j int) bool {
			if all[i].n != all[j].n {
				return all[i].n > all[j].n
			}
			return all[i].seq < all[j].seq
		})
		if len(all) > maxExamples {
			all = all[:maxExamples]
		}
		for _, v := range all {
			s.Examples = append(s.Examples, Example{Value: json.RawMessage(v.raw), Count: v.n})
		}
	}
	return s
}

// isTimeName reports whether a field name suggests a timestamp.
func isTimeName(name string) bool {
	l := strings.ToLower(name)
	switch l {
	case "created", "updated", "deleted", "timestamp", "ts", "time", "date":
		return true
	}
	for _, suf := range []string{"_at", "_ts", "_time", "timestamp", "_date"} {
		if strings.HasSuffix(l, suf) {
			return true
		}
	}
	for _, suf := range []string{"At", "Ts", "Time", "Date"} { // createdAt, eventTime
		if len(name) > len(suf) && strings.HasSuffix(name, suf) {
			c := name[len(name)-len(suf)-1]
			if c >= 'a' && c <= 'z' {
				return true
			}
		}
	}
	return strings.HasPrefix(l, "created") || strings.HasPrefix(l, "updated")
}

// walker walks a JSON document already checked with json.Valid.
type walker struct {
	data []byte
	pos  int
	objs int // objects entered so far, numbering them for node.inObj
}

func (w *walker) skipSpace() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// str reads a string starting at the opening quote and returns its value.
func (w *walker) str() []byte {
	start := w.pos + 1
	i := start
	escaped := false
	for {
		c := w.data[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			escaped = true
			i++
		}
		i++
	}
	w.pos = i + 1
	if !escaped && utf8.Valid(w.data[start:i]) {
		return w.data[start:i]
	}
	// Decoded as encoding/json decodes it, invalid UTF-8 included (each bad byte becomes
	// U+FFFD), so that the shape names what a consumer's parser sees.
	var s string
	_ = json.Unmarshal(w.data[start-1:i+1], &s)
	return []byte(s)
}

func (w *walker) value(n *node) {
	n.count++
	switch c := w.data[w.pos]; c {
	case '{':
		n.objs++
		w.pos++
		w.skipSpace()
		if w.data[w.pos] == '}' {
			w.pos++
			return
		}
		w.objs++
		obj := w.objs
		for {
			f := n.child(w.str())
			if f.inObj != obj {
				f.inObj = obj
				f.present++
			}
			w.skipSpace()
			w.pos++ // ':'
			w.skipSpace()
			w.value(f)
			w.skipSpace()
			c := w.data[w.pos]
			w.pos++
			if c == '}' {
				return
			}
			w.skipSpace()
		}
	case '[':
		n.arrs++
		w.pos++
		w.skipSpace()
		if w.data[w.pos] == ']' {
			w.pos++
			return
		}
		if n.elem == nil {
			n.elem = newNode("")
		}
		for {
			w.value(n.elem)
			w.skipSpace()
			c := w.data[w.pos]
			w.pos++
			if c == ']' {
				return
			}
			w.skipSpace()
		}
	case '"':
		n.addString(w.str())
	case 't':
		n.bools++
		n.addLiteral(w.data[w.pos : w.pos+4])
		w.pos += 4
	case 'f':
		n.bools++
		n.addLiteral(w.data[w.pos : w.pos+5])
		w.pos += 5
	case 'n':
		n.null++
		w.pos += 4
	default:
		start := w.pos
		integer := true
		for w.pos < len(w.data) {
			c := w.data[w.pos]
			if c == '.' || c == 'e' || c == 'E' {
				integer = false
			} else if !(c >= '0' && c <= '9' || c == '-' || c == '+') {
				break
			}
			w.pos++
		}
		lit := w.data[start:w.pos]
		if integer {
			n.addInteger(lit)
		} else {
			n.nums++
			n.addLiteral(lit)
		}
	}
}
