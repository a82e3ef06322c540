// Package xmlscan is the streaming XML tokenizer under alma.ExportDecoder,
// made for the flat, element-only XML of Alma's bursar files.
//
// # Why not encoding/xml
//
// Speed and hostile input. encoding/xml reads a bursar file several times
// slower: this scanner works on one large buffer, finds tags with
// bytes.IndexByte, hands out text without copying whenever it holds no
// entity, and interns element names instead of allocating them (the
// README's "Performance and reliability" section has the figures). And a
// bursar file comes from a file server that others write to, so the
// scanner refuses what an attacker would use, with limits that hold
// whatever the input: no DOCTYPE (so no entity is ever expanded), elements
// nested no deeper than [MaxDepth] (32), no tag, comment or run of text
// longer than [MaxToken] (1 MiB), at most [MaxNames] element names kept.
//
// It still checks what makes XML well formed: matching start and end tags,
// a single root element, names, attribute syntax, the five predefined
// entities and numeric character references (to legal characters only),
// comments, CDATA sections, processing instructions, legal characters and
// valid UTF-8; an XML declaration must come first and declare UTF-8.
//
// # How it is fuzzed
//
// FuzzScanner (go test -fuzz FuzzScanner ./alma/internal/xmlscan), seeded
// with every real bursar file in alma/testdata/bursar and a few hand-made
// documents, requires that the scanner never panics, stays within its
// limits, and, wherever encoding/xml also accepts the input, reads the same
// elements and text. alma's FuzzExportDecoder fuzzes the decoder above it
// with the same fixtures, and alma's hostile_test.go tries the attacks
// named above.
package xmlscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits of what the scanner accepts.
const (
	MaxDepth = 32      // deepest nesting of elements
	MaxToken = 1 << 20 // longest tag, comment or run of text (1 MiB)
	MaxNames = 4096    // distinct element names interned; the rest are not cached
	readSize = 64 << 10
)

// Kind is the kind of a [Token].
type Kind uint8

// The kinds of token. EOF is also the scanner's internal "nothing to hand
// out" (a comment, a processing instruction).

const (
	EOF Kind = iota
	Start
	End
	Text
)

// Name is an interned element name.
type Name struct {
	QName string // as written, with its prefix
	Local string // without the prefix
	Tag   uint8  // what the Scanner's classify function said of Local
}

// Token is one token. Text is only valid until the next call to Next.
type Token struct {
	Kind Kind
	Name *Name // of a start or end tag
	Text []byte
	Line int // line of a start tag
}

// SyntaxError is a well-formedness error (or a limit passed) at a line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return e.Msg }

// errIncomplete tells the scanner that a token runs past the buffered
// bytes: it reads more and tries again.
var errIncomplete = errors.New("incomplete token")

// Scanner reads the tokens of one XML document. It is not safe for
// concurrent use.
type Scanner struct {
	r        io.Reader
	buf      []byte
	pos, end int  // buf[pos:end] is read but not yet scanned
	eof      bool // r has no more bytes
	rerr     error

	line int // line number at buf[mark]
	mark int

	stack      []*Name
	stackLines []int
	names      map[string]*Name
	recent     [256]*Name // a cache in front of names

	started    bool // some token was scanned (the XML declaration must come first)
	rootSeen   bool
	rootClosed bool
	pendingEnd bool // the last start tag was self-closing
	text       []byte
	err        error
	midEnd     bool  // the input may end inside the document (EndInside)
	tok        Token // the token Scan hands out

	classify func(local string) uint8
}

// New returns a scanner that reads r. classify, when not nil, is called
// once for each distinct element name (without its prefix) and its answer
// kept as the name's Tag, so that a caller can switch on a small number
// instead of comparing strings.
func New(r io.Reader, classify func(local string) uint8) *Scanner {
	return &Scanner{
		r:          r,
		classify:   classify,
		buf:        make([]byte, readSize),
		line:       1,
		names:      make(map[string]*Name),
		stack:      make([]*Name, 0, MaxDepth),
		stackLines: make([]int, 0, MaxDepth),
	}
}

// NewPart returns a scanner that reads r as the part of a document that
// follows a place between two tokens where the elements open are open
// (their qualified names as [Scanner.Open] gives them, outermost first):
// the rest of the document, or a slice of it with [Scanner.EndInside]. It
// reads r as a scanner that read the document up to there would: an XML
// declaration is refused, a byte order mark is text. The lines of r count
// from 1; the open elements' own lines, in errors that name them, are 0.
func NewPart(r io.Reader, classify func(local string) uint8, open []string) *Scanner {
	s := New(r, classify)
	s.openPart(open)
	return s
}

// ResetPart makes s read r as NewPart(r, classify, open) would, with the
// same classify, keeping its buffer and the names it knows.
func (s *Scanner) ResetPart(r io.Reader, open []string) {
	*s = Scanner{r: r, classify: s.classify, buf: s.buf, line: 1, names: s.names, recent: s.recent,
		stack: s.stack[:0], stackLines: s.stackLines[:0], text: s.text[:0]}
	s.openPart(open)
}

func (s *Scanner) openPart(open []string) {
	for _, q := range open {
		s.stack = append(s.stack, s.intern([]byte(q)))
		s.stackLines = append(s.stackLines, 0)
	}
	s.started = true
	s.rootSeen = len(open) > 0
}

// EndInside lets the input end inside the document, between two tokens:
// at its end Next returns io.EOF whatever elements are open, where it
// would otherwise say they are not closed. A token cut by the end is still
// an error. [Scanner.Open] then tells where the input stopped.
func (s *Scanner) EndInside() { s.midEnd = true }

// Open returns the qualified names of the elements open, outermost first.
func (s *Scanner) Open() []string {
	open := make([]string, len(s.stack))
	for i, n := range s.stack {
		open[i] = n.QName
	}
	return open
}

// Line returns the line of the next byte to scan.
func (s *Scanner) Line() int { return s.lineAt(s.pos) }

// lineAt returns the line of buf[p]. Calls must not go backwards.
func (s *Scanner) lineAt(p int) int {
	if p > s.mark {
		s.line += bytes.Count(s.buf[s.mark:p], []byte{'\n'})
		s.mark = p
	}
	return s.line
}

func (s *Scanner) fail(p int, format string, args ...any) error {
	s.err = &SyntaxError{Line: s.lineAt(p), Msg: fmt.Sprintf(format, args...)}
	return s.err
}

// fill reads more bytes, keeping buf[pos:end]. It reports false when
// nothing more can be read.
func (s *Scanner) fill() bool {
	if s.eof {
		return false
	}
	s.lineAt(s.pos)
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.end = n
		s.mark -= s.pos
		s.pos = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= MaxToken {
			return false
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.eof = true
	s.rerr = io.ErrNoProgress
	return false
}

// Next returns the next start tag, end tag or run of text (comments and
// processing instructions are checked and skipped; a self-closing tag
// comes back as a start and an end). At the end of a well-formed document
// it returns io.EOF; a document that is not well formed, or passes a
// limit, gives a *[SyntaxError]; a read error is returned as it is.
// Errors are sticky.
func (s *Scanner) Next() (Token, error) {
	tok, err := s.Scan()
	if err != nil {
		return Token{}, err
	}
	return *tok, nil
}

// Scan is [Scanner.Next] without the copy: it returns the scanner's own
// token, which the next call overwrites. A decoder that takes each token
// in as it comes calls Scan; a 48-byte Token returned by value through
// two calls a token was a tenth of the decoding's CPU.
func (s *Scanner) Scan() (*Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	tok := &s.tok
	if s.pendingEnd {
		s.pendingEnd = false
		*tok = s.pop()
		return tok, nil
	}
	if !s.started {
		// A UTF-8 byte order mark may come before everything else.
		for s.end-s.pos < 3 && s.fill() {
		}
		if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xef\xbb\xbf")) {
			s.pos += 3
		}
	}
	for {
		if s.pos >= s.end && !s.fill() {
			return nil, s.atEOF()
		}
		tok.Kind = EOF
		n, err := s.scan(s.buf[s.pos:s.end], tok)
		if err == errIncomplete {
			if s.end-s.pos >= MaxToken {
				return nil, s.fail(s.pos, "token longer than %d bytes", MaxToken)
			}
			if !s.fill() {
				if s.rerr != nil {
					s.err = s.rerr
					return nil, s.err
				}
				if s.end-s.pos >= MaxToken {
					return nil, s.fail(s.pos, "token longer than %d bytes", MaxToken)
				}
				// At the end of the input: only text may end there.
				n, err = s.scanFinal(s.buf[s.pos:s.end], tok)
			} else {
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		s.pos += n
		s.started = true
		if tok.Kind != EOF {
			return tok, nil
		}
	}
}

// atEOF returns the error at the end of the input: io.EOF, or why the
// document may not end there.
func (s *Scanner) atEOF() error {
	if s.rerr != nil {
		s.err = s.rerr
		return s.err
	}
	switch {
	case s.midEnd:
	case len(s.stack) > 0:
		top := s.stack[len(s.stack)-1]
		return s.fail(s.end, "unexpected end of file: <%s> opened on line %d is not closed", top.QName, s.stackLines[len(s.stackLines)-1])
	case !s.rootSeen:
		return s.fail(s.end, "no root element")
	}
	s.err = io.EOF
	return io.EOF
}

func (s *Scanner) pop() Token {
	top := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	s.stackLines = s.stackLines[:len(s.stackLines)-1]
	if len(s.stack) == 0 {
		s.rootClosed = true
	}
	return Token{Kind: End, Name: top}
}

// scanFinal handles the bytes left at the end of the input, which can only
// be text (anything else is unterminated).
func (s *Scanner) scanFinal(data []byte, tok *Token) (int, error) {
	if data[0] == '<' {
		return 0, s.fail(s.pos, "unexpected end of file inside markup")
	}
	return s.scanText(data, len(data), tok)
}

// scan reads one token from data, which is not empty. A token of kind
// EOF means "nothing to hand out" (a comment, a processing
// instruction): the caller goes on.
func (s *Scanner) scan(data []byte, tok *Token) (int, error) {
	if data[0] != '<' {
		// Most text between tags is a line break and indentation: legal
		// characters, nothing to expand.
		i := 0
		for i < len(data) && IsSpace(data[i]) {
			i++
		}
		if i < len(data) && data[i] == '<' {
			if len(s.stack) > 0 {
				*tok = Token{Kind: Text, Text: data[:i]}
			}
			return i, nil
		}
		i = bytes.IndexByte(data, '<')
		if i < 0 {
			return 0, errIncomplete
		}
		return s.scanText(data, i, tok)
	}
	if len(data) < 2 {
		return 0, errIncomplete
	}
	switch data[1] {
	case '/':
		return s.scanEnd(data, tok)
	case '?':
		return s.scanPI(data)
	case '!':
		return s.scanBang(data, tok)
	}
	return s.scanStart(data, tok)
}

// IsSpace reports whether b is XML white space.
func IsSpace(b byte) bool { return spaceByte[b] }

// spaceByte tells XML white space (space, tab, line feed, carriage
// return): one load where four comparisons were, in the loops over the
// indentation between tags.
var spaceByte = [256]bool{' ': true, '\n': true, '\t': true, '\r': true}

// scanText reads the character data data[:n].
func (s *Scanner) scanText(data []byte, n int, tok *Token) (int, error) {
	raw := data[:n]
	if len(s.stack) == 0 {
		// Outside the root element only white space may appear.
		for i, b := range raw {
			if !IsSpace(b) {
				return 0, s.fail(s.pos+i, "text outside the root element")
			}
		}
		return n, nil
	}
	text, err := s.decodeText(raw, s.pos)
	if err != nil {
		return 0, err
	}
	*tok = Token{Kind: Text, Text: text}
	return n, nil
}

// decodeText checks the characters of raw and expands its references. It
// returns raw itself when there is nothing to expand. base is raw's offset
// in buf, for error lines.
func (s *Scanner) decodeText(raw []byte, base int) ([]byte, error) {
	amp, err := s.checkChars(raw, base)
	if err != nil {
		return nil, err
	}
	if amp < 0 {
		return raw, nil
	}
	out := append(s.text[:0], raw[:amp]...)
	for i := amp; i < len(raw); {
		b := raw[i]
		if b != '&' {
			j := bytes.IndexByte(raw[i:], '&')
			if j < 0 {
				out = append(out, raw[i:]...)
				break
			}
			out = append(out, raw[i:i+j]...)
			i += j
			continue
		}
		semi := bytes.IndexByte(raw[i:], ';')
		if semi < 0 {
			return nil, s.fail(base+i, "unterminated entity reference")
		}
		r, err := s.entity(raw[i+1:i+semi], base+i)
		if err != nil {
			return nil, err
		}
		out = utf8.AppendRune(out, r)
		i += semi + 1
	}
	s.text = out
	return out, nil
}

// entity resolves the reference between '&' and ';'.
func (s *Scanner) entity(name []byte, at int) (rune, error) {
	switch string(name) {
	case "amp":
		return '&', nil
	case "lt":
		return '<', nil
	case "gt":
		return '>', nil
	case "quot":
		return '"', nil
	case "apos":
		return '\'', nil
	}
	if len(name) < 2 || name[0] != '#' {
		return 0, s.fail(at, "invalid entity reference &%s;", safeSnippet(name))
	}
	digits, base := name[1:], 10
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, s.fail(at, "invalid character reference &%s;", safeSnippet(name))
	}
	var n rune
	for _, c := range digits {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, s.fail(at, "invalid character reference &%s;", safeSnippet(name))
		}
		n = n*rune(base) + d
	}
	if !IsChar(n) {
		return 0, s.fail(at, "character reference &%s; is not a legal XML character", safeSnippet(name))
	}
	return n, nil
}

// IsChar reports whether r is a Char of XML 1.0.
func IsChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func safeSnippet(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return strings.ToValidUTF8(string(b), "?")
}

// nameByte classifies the bytes of a name for scanName: a byte that ends
// it (nameEnd), an ASCII letter, '_' or ':' (nameStart), an ASCII digit,
// '-' or '.', which may not start it (nameInner), or a byte of a UTF-8
// sequence (nameHigh), checked once the name ends.
var nameByte = func() (t [256]uint8) {
	for b := range 256 {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b == '_', b == ':':
			t[b] = nameStart
		case b >= '0' && b <= '9', b == '-', b == '.':
			t[b] = nameInner
		case b >= 0x80:
			t[b] = nameHigh
		}
	}
	return t
}()

const (
	nameEnd = iota
	nameStart
	nameInner
	nameHigh
)

// scanName reads an XML name at data[i:]. It returns the end of the name,
// or errIncomplete when the name may go on past data.
func (s *Scanner) scanName(data []byte, i int) (int, error) {
	start := i
	if i >= len(data) {
		return 0, errIncomplete
	}
	ascii := true
	switch b := data[i]; nameByte[b] {
	case nameEnd:
		return 0, s.fail(s.pos+i, "expected a name, found %q", b)
	case nameInner:
		return 0, s.fail(s.pos+i, "invalid character %q at the start of a name", b)
	case nameHigh:
		ascii = false
	}
	for i++; i < len(data); i++ {
		switch nameByte[data[i]] {
		case nameEnd:
			if !ascii && !utf8.Valid(data[start:i]) {
				return 0, s.fail(s.pos+start, "invalid UTF-8 in a name")
			}
			return i, nil
		case nameHigh:
			ascii = false
		}
	}
	return 0, errIncomplete
}

// intern returns the interned name for b. The slot of b in the cache
// mixes its length and three of its bytes: the names of a fee in Alma's
// bursar export each have a slot of their own (with only the last and the
// middle byte, fineFeeType and userFineFee shared one, and itemTitle and
// owneredEntity another, for four map look-ups a fee).
func (s *Scanner) intern(b []byte) *Name {
	k := len(b)
	h := (k*31 + int(b[k-1])*7 + int(b[k/2])*5 + int(b[k/3])) & (len(s.recent) - 1)
	if n := s.recent[h]; n != nil && n.QName == string(b) {
		return n
	}
	if n, ok := s.names[string(b)]; ok {
		s.recent[h] = n
		return n
	}
	q := string(b)
	local := q
	if prefix, l, ok := strings.Cut(q, ":"); ok && prefix != "" && l != "" {
		local = l
	}
	n := &Name{QName: q, Local: local}
	if s.classify != nil {
		n.Tag = s.classify(local)
	}
	if len(s.names) < MaxNames {
		s.names[q] = n
	}
	return n
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && IsSpace(data[i]) {
		i++
	}
	return i
}

// scanStart reads a start tag, or an empty-element tag, which it hands out
// as a start tag followed (on the next call) by its end tag.
func (s *Scanner) scanStart(data []byte, tok *Token) (int, error) {
	end, err := s.scanName(data, 1)
	if err != nil {
		return 0, err
	}
	nameBytes := data[1:end]
	i, err := s.scanAttrs(data, end, nameBytes)
	if err != nil {
		return 0, err
	}
	if s.rootClosed {
		s.pendingEnd = false
		return 0, s.fail(s.pos, "a second root element <%s>", safeSnippet(nameBytes))
	}
	if len(s.stack) >= MaxDepth {
		s.pendingEnd = false
		return 0, s.fail(s.pos, "elements nested deeper than %d", MaxDepth)
	}
	name := s.intern(nameBytes)
	line := s.lineAt(s.pos)
	s.stack = append(s.stack, name)
	s.stackLines = append(s.stackLines, line)
	s.rootSeen = true
	*tok = Token{Kind: Start, Name: name, Line: line}
	return i, nil
}

// scanAttrs reads the attributes of the tag <elem from data[i:] up to the
// tag's end, and returns the index just past it. An empty-element tag
// ("/>") sets pendingEnd.
func (s *Scanner) scanAttrs(data []byte, i int, elem []byte) (int, error) {
	for {
		j := skipSpace(data, i)
		if j >= len(data) {
			return 0, errIncomplete
		}
		switch data[j] {
		case '>':
			return j + 1, nil
		case '/':
			if j+1 >= len(data) {
				return 0, errIncomplete
			}
			if data[j+1] != '>' {
				return 0, s.fail(s.pos+j, "expected /> in the tag <%s>", safeSnippet(elem))
			}
			s.pendingEnd = true
			return j + 2, nil
		}
		if j == i {
			return 0, s.fail(s.pos+j, "expected white space before an attribute in <%s>", safeSnippet(elem))
		}
		var err error
		if i, err = s.scanAttr(data, j, elem); err != nil {
			return 0, err
		}
	}
}

// scanAttr reads one attribute (name, '=', quoted value) at data[j:] and
// returns the index just past it. Values are checked, not kept: the
// decoder reads an element with xsi:nil="true" as empty text, which it is
// anyway.
func (s *Scanner) scanAttr(data []byte, j int, elem []byte) (int, error) {
	aend, err := s.scanName(data, j)
	if err != nil {
		return 0, err
	}
	attr := data[j:aend]
	k := skipSpace(data, aend)
	if k >= len(data) {
		return 0, errIncomplete
	}
	if data[k] != '=' {
		return 0, s.fail(s.pos+k, "attribute %s in <%s> has no value", safeSnippet(attr), safeSnippet(elem))
	}
	k = skipSpace(data, k+1)
	if k >= len(data) {
		return 0, errIncomplete
	}
	q := data[k]
	if q != '"' && q != '\'' {
		return 0, s.fail(s.pos+k, "attribute %s in <%s>: value is not quoted", safeSnippet(attr), safeSnippet(elem))
	}
	vend := bytes.IndexByte(data[k+1:], q)
	if vend < 0 {
		return 0, errIncomplete
	}
	raw := data[k+1 : k+1+vend]
	if bytes.IndexByte(raw, '<') >= 0 {
		return 0, s.fail(s.pos+k, "attribute %s in <%s>: '<' in the value", safeSnippet(attr), safeSnippet(elem))
	}
	if _, err := s.decodeText(raw, s.pos+k+1); err != nil {
		return 0, err
	}
	return k + 1 + vend + 1, nil
}

func (s *Scanner) scanEnd(data []byte, tok *Token) (int, error) {
	// Most end tags close the innermost element, without white space:
	// the name was checked at its start tag.
	if k := len(s.stack); k > 0 {
		q := s.stack[k-1].QName
		if n := 2 + len(q); n < len(data) && data[n] == '>' && string(data[2:n]) == q {
			*tok = s.pop()
			return n + 1, nil
		}
	}
	end, err := s.scanName(data, 2)
	if err != nil {
		return 0, err
	}
	name := data[2:end]
	i := skipSpace(data, end)
	if i >= len(data) {
		return 0, errIncomplete
	}
	if data[i] != '>' {
		return 0, s.fail(s.pos+i, "expected > to end </%s>", safeSnippet(name))
	}
	if len(s.stack) == 0 {
		return 0, s.fail(s.pos, "end tag </%s> without a start tag", safeSnippet(name))
	}
	top := s.stack[len(s.stack)-1]
	if string(name) != top.QName {
		return 0, s.fail(s.pos, "end tag </%s> does not match <%s> opened on line %d", safeSnippet(name), top.QName, s.stackLines[len(s.stackLines)-1])
	}
	*tok = s.pop()
	return i + 1, nil
}

// scanPI reads a processing instruction, which is skipped. The XML
// declaration must come first and declare UTF-8, if any encoding.
func (s *Scanner) scanPI(data []byte) (int, error) {
	end, err := s.scanName(data, 2)
	if err != nil {
		return 0, err
	}
	target := data[2:end]
	close := bytes.Index(data[end:], []byte("?>"))
	if close < 0 {
		return 0, errIncomplete
	}
	body := data[end : end+close]
	if len(body) > 0 && !IsSpace(body[0]) {
		return 0, s.fail(s.pos+end, "expected white space after <?%s", safeSnippet(target))
	}
	if _, err := s.decodeText(body, s.pos+end); err != nil {
		return 0, err
	}
	if bytes.EqualFold(target, []byte("xml")) {
		if s.started || string(target) != "xml" {
			return 0, s.fail(s.pos, "the XML declaration must come first, in lower case")
		}
		if enc := declEncoding(body); enc != "" && !strings.EqualFold(enc, "utf-8") {
			return 0, s.fail(s.pos, "unsupported encoding %q (want UTF-8)", enc)
		}
	}
	return end + close + 2, nil
}

// declEncoding returns the encoding named in an XML declaration.
func declEncoding(body []byte) string {
	i := bytes.Index(body, []byte("encoding"))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(body[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return "?"
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return "?"
	}
	j := bytes.IndexByte(rest[1:], rest[0])
	if j < 0 {
		return "?"
	}
	return string(rest[1 : 1+j])
}

var (
	commentOpen = []byte("<!--")
	cdataOpen   = []byte("<![CDATA[")
)

// scanBang reads a comment or a CDATA section, and refuses everything else
// that starts with "<!", DOCTYPE first of all.
func (s *Scanner) scanBang(data []byte, tok *Token) (int, error) {
	switch {
	case bytes.HasPrefix(data, commentOpen):
		close := bytes.Index(data[4:], []byte("--"))
		if close < 0 {
			return 0, errIncomplete
		}
		close += 4
		if close+2 >= len(data) {
			return 0, errIncomplete
		}
		if data[close+2] != '>' {
			return 0, s.fail(s.pos+close, `"--" inside a comment`)
		}
		if _, err := s.checkChars(data[4:close], s.pos+4); err != nil {
			return 0, err
		}
		return close + 3, nil
	case bytes.HasPrefix(data, cdataOpen):
		close := bytes.Index(data[len(cdataOpen):], []byte("]]>"))
		if close < 0 {
			return 0, errIncomplete
		}
		close += len(cdataOpen)
		if len(s.stack) == 0 {
			return 0, s.fail(s.pos, "CDATA section outside the root element")
		}
		raw := data[len(cdataOpen):close]
		if _, err := s.checkChars(raw, s.pos+len(cdataOpen)); err != nil {
			return 0, err
		}
		*tok = Token{Kind: Text, Text: raw}
		return close + 3, nil
	case len(data) < len(cdataOpen) && (bytes.HasPrefix(cdataOpen, data) || bytes.HasPrefix(commentOpen, data)):
		return 0, errIncomplete
	case bytes.HasPrefix(data, []byte("<!DOCTYPE")):
		return 0, s.fail(s.pos, "DOCTYPE is not allowed")
	case len(data) < len("<!DOCTYPE") && bytes.HasPrefix([]byte("<!DOCTYPE"), data):
		return 0, errIncomplete
	}
	return 0, s.fail(s.pos, "unexpected markup %q", safeSnippet(data[:min(len(data), 9)]))
}

// textByte classifies the bytes of character data for checkChars: 0 for
// a byte that is a legal character by itself (printable ASCII but '&',
// tab, line feed, carriage return), textAmp, textCtl (an illegal control
// character) and textHigh (a byte of a UTF-8 sequence).
var textByte = func() (t [256]uint8) {
	for b := range 256 {
		switch {
		case b == '&':
			t[b] = textAmp
		case b >= 0x80:
			t[b] = textHigh
		case b < 0x20 && b != '\n' && b != '\t' && b != '\r':
			t[b] = textCtl
		}
	}
	return t
}()

const (
	textPlain = iota
	textAmp
	textCtl
	textHigh
)

// checkChars checks that raw holds only legal XML characters in valid
// UTF-8, and returns the index of its first '&' (or -1).
func (s *Scanner) checkChars(raw []byte, base int) (amp int, err error) {
	amp = -1
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		switch textByte[b] {
		case textPlain:
			continue
		case textAmp:
			if amp < 0 {
				amp = i
			}
			continue
		case textCtl:
			return 0, s.fail(base+i, "illegal character code %U", rune(b))
		}
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size == 1 {
			return 0, s.fail(base+i, "invalid UTF-8")
		}
		if !IsChar(r) {
			return 0, s.fail(base+i, "illegal character code %U", r)
		}
		i += size - 1
	}
	return amp, nil
}
