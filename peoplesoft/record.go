package peoplesoft

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// source gives the record writer the values of one record.
type source interface {
	text(f *cfield) string
	amount(f *cfield) int64 // minor units, signed
	date(f *cfield) time.Time
	count(f *cfield) int64
}

// recordWriter writes records of a compiled layout.
type recordWriter struct {
	c     *compiled
	w     *bufio.Writer
	line  []byte
	tmp   []byte
	dates []dateCache // one per field index of the widest record
}

func newRecordWriter(w io.Writer, c *compiled) *recordWriter {
	n := len(c.detail.fields)
	if c.header != nil {
		n = max(n, len(c.header.fields))
	}
	if c.trailer != nil {
		n = max(n, len(c.trailer.fields))
	}
	return &recordWriter{c: c, w: bufio.NewWriterSize(w, 64<<10), dates: make([]dateCache, n)}
}

// writeNames writes the row of column names of a CSV layout.
func (w *recordWriter) writeNames() error {
	line := w.line[:0]
	for i := range w.c.detail.fields {
		if i > 0 {
			line = utf8.AppendRune(line, w.c.delim)
		}
		line = w.appendCSV(line, []byte(w.c.detail.fields[i].name))
	}
	line = append(line, w.c.lineEnd...)
	w.line = line
	_, err := w.w.Write(line)
	return err
}

// encode formats one record. A value that does not fit returns an
// *EncodeError-ready (field, error) pair and writes nothing.
func (w *recordWriter) encode(r *crecord, src source) (field string, err error) {
	c := w.c
	line := w.line[:0]
	for i := range r.fields {
		f := &r.fields[i]
		tmp, prefix, err := w.value(r, i, src)
		if err != nil {
			return f.name, err
		}
		w.tmp = tmp
		if c.fixed {
			line, err = appendFixed(line, tmp, prefix, f)
		} else {
			line, err = w.appendDelimited(line, tmp, prefix, f, i > 0)
		}
		if err != nil {
			return f.name, err
		}
	}
	line = append(line, c.lineEnd...)
	w.line = line
	if _, err := w.w.Write(line); err != nil {
		return "", err
	}
	return "", nil
}

// value formats field i of r from src, in w.tmp's space, without padding.
// prefix is the sign to write before an amount (0 for none).
func (w *recordWriter) value(r *crecord, i int, src source) (tmp []byte, prefix byte, err error) {
	c := w.c
	f := &r.fields[i]
	tmp = w.tmp[:0]
	switch f.kind {
	case kindKey, kindText:
		switch f.role {
		case roleConst:
			tmp = append(tmp, f.konst...)
		case roleFiller:
		default:
			s := src.text(f)
			if f.kind == kindKey {
				if err := checkKey(s, c.fixed); err != nil {
					return nil, 0, err
				}
			} else {
				s = cleanText(s, c.fixed)
			}
			tmp = append(tmp, s...)
		}
	case kindAmount:
		u := src.amount(f)
		if prefix, err = amountPrefix(u, f.sign); err != nil {
			return nil, 0, err
		}
		tmp = appendAmount(tmp, u, f, c.minor)
	case kindSign:
		if src.amount(&r.fields[f.signOf]) < 0 {
			tmp = append(tmp, f.minus)
		} else {
			tmp = append(tmp, f.plus)
		}
	case kindDate:
		if t := src.date(f); !t.IsZero() {
			tmp = w.dates[i].format(tmp, t, f.format)
		}
	case kindCount:
		tmp = appendCount(tmp, src.count(f))
	}
	return tmp, prefix, nil
}

// amountPrefix is the sign written before an amount of u minor units
// under the field's sign rule (0 for none).
func amountPrefix(u int64, sign string) (byte, error) {
	switch sign {
	case SignNone:
		if u < 0 {
			return 0, fmt.Errorf("%w: negative amount in a field without a sign", ErrAmount)
		}
	case SignMinus:
		if u < 0 {
			return '-', nil
		}
	case SignAlways:
		if u < 0 {
			return '-', nil
		}
		return '+', nil
	}
	return 0, nil
}

// appendFixed appends a value to a fixed-width line: justified and padded
// to the field's length, a sign before zero padding, cut only where the
// field allows truncation.
func appendFixed(line, tmp []byte, prefix byte, f *cfield) ([]byte, error) {
	n := len(tmp)
	if prefix != 0 {
		n++
	}
	if n > f.length {
		if !f.truncate {
			return line, fmt.Errorf("%w: %d characters in a %d-character field", ErrFieldTooLong, n, f.length)
		}
		tmp, n = tmp[:f.length], f.length
	}
	pad := f.length - n
	switch {
	case !f.right:
		if prefix != 0 {
			line = append(line, prefix)
		}
		line = append(line, tmp...)
		line = appendPad(line, f.pad, pad)
	case prefix != 0 && f.pad == '0':
		line = append(line, prefix)
		line = appendPad(line, f.pad, pad)
		line = append(line, tmp...)
	default:
		line = appendPad(line, f.pad, pad)
		if prefix != 0 {
			line = append(line, prefix)
		}
		line = append(line, tmp...)
	}
	return line, nil
}

// appendDelimited appends a value to a CSV line, after a delimiter unless
// it is the first, quoted as needed and within the field's length in
// characters when it has one.
func (w *recordWriter) appendDelimited(line, tmp []byte, prefix byte, f *cfield, delim bool) ([]byte, error) {
	if f.length > 0 {
		n := len(tmp)
		if prefix != 0 {
			n++
		}
		if rn := utf8.RuneCount(tmp) + n - len(tmp); rn > f.length {
			if !f.truncate {
				return line, fmt.Errorf("%w: %d characters in a %d-character field", ErrFieldTooLong, rn, f.length)
			}
			tmp = truncateRunes(tmp, f.length)
		}
	}
	if delim {
		line = utf8.AppendRune(line, w.c.delim)
	}
	if prefix != 0 {
		line = append(line, prefix)
	}
	return w.appendCSV(line, tmp), nil
}

func appendPad(dst []byte, pad byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, pad)
	}
	return dst
}

func truncateRunes(b []byte, n int) []byte {
	i := 0
	for k := 0; k < n && i < len(b); k++ {
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return b[:i]
}

// appendCSV writes v as one CSV field, quoted by RFC 4180 when it holds
// the delimiter, a quote, a line end or leading space.
func (w *recordWriter) appendCSV(dst, v []byte) []byte {
	need := len(v) > 0 && (v[0] == ' ' || v[0] == '\t')
	if !need {
		for _, b := range v {
			if b == '"' || b == '\r' || b == '\n' || rune(b) == w.c.delim {
				need = true
				break
			}
		}
		if !need && w.c.delim >= utf8.RuneSelf && bytes.ContainsRune(v, w.c.delim) {
			need = true
		}
	}
	if !need {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for _, b := range v {
		if b == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, b)
	}
	return append(dst, '"')
}

func (w *recordWriter) flush() error { return w.w.Flush() }

// Which record a line holds.
const (
	recHeader = iota + 1
	recDetail
	recTrailer
)

// recordReader splits a file into records of a compiled layout.
type recordReader struct {
	c    *compiled
	file string
	br   *bufio.Reader
	raw  []string // the fields of the current CSV record
	qbuf []byte   // a quoted CSV record being gathered

	lineNo     int // lines read so far
	started    bool
	sawTrailer bool
	colIdx     []int // CSV with column names: detail field → column
	ncols      int

	which int
	rec   *crecord
	vals  []string // trimmed values, one per field of rec
	line  int      // the line the record starts on
}

type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.max > 0 && l.n > l.max {
		return n, fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, l.max)
	}
	return n, err
}

func newRecordReader(r io.Reader, c *compiled, file string, maxBytes int64) *recordReader {
	br := bufio.NewReaderSize(&limitReader{r: r, max: maxBytes}, 64<<10)
	rr := &recordReader{c: c, file: file, br: br}
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	return rr
}

func (r *recordReader) perr(line int, field string, err error) *ParseError {
	return &ParseError{File: r.file, Line: line, Field: field, Err: err}
}

// next reads the next record into r.which, r.rec, r.vals and r.line. It
// returns io.EOF at the end, or a *ParseError: for one bad record (the
// caller may go on), or for the whole file when fatal is set.
func (r *recordReader) next() (fatal bool, err error) {
	for {
		var raw []string
		var line string
		if r.c.fixed {
			b, err := r.readLine()
			if err != nil {
				return r.readError(err)
			}
			line = string(b)
			r.line = r.lineNo
		} else {
			rec, start, err := r.readCSV()
			if err != nil {
				return r.readError(err)
			}
			raw = rec
			r.line = start
		}

		if !r.started {
			r.started = true
			if r.c.columnNames {
				if err := r.readNames(raw); err != nil {
					return true, err
				}
				continue
			}
			if r.c.header != nil {
				r.which, r.rec = recHeader, r.c.header
				if !r.isRecord(r.c.header, line, raw) {
					return true, r.perr(r.line, "", fmt.Errorf("%w: the first record is not a header", ErrHeader))
				}
				if err := r.split(line, raw); err != nil {
					err.Err = fmt.Errorf("%w: %w", ErrHeader, err.Err)
					return true, err
				}
				return false, nil
			}
		}
		if r.sawTrailer {
			return true, r.perr(r.line, "", fmt.Errorf("%w: a record follows the trailer", ErrTrailer))
		}
		if r.c.trailer != nil && r.isRecord(r.c.trailer, line, raw) {
			r.sawTrailer = true
			r.which, r.rec = recTrailer, r.c.trailer
			if err := r.split(line, raw); err != nil {
				err.Err = fmt.Errorf("%w: %w", ErrTrailer, err.Err)
				return true, err
			}
			return false, nil
		}
		r.which, r.rec = recDetail, r.c.detail
		if err := r.split(line, raw); err != nil {
			return false, err
		}
		return false, nil
	}
}

// readError sorts an error from reading a line: the end of the file, a
// bad line (a *ParseError already), or a read error that ends the file.
func (r *recordReader) readError(err error) (fatal bool, _ error) {
	if err == io.EOF {
		return true, r.atEOF()
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		return false, err
	}
	return true, r.perr(r.lineNo, "", err)
}

func (r *recordReader) atEOF() error {
	switch {
	case !r.started && (r.c.header != nil || r.c.columnNames):
		return r.perr(0, "", fmt.Errorf("%w: the file is empty", ErrHeader))
	case r.c.trailer != nil && !r.sawTrailer && !r.c.trailerOptional:
		return r.perr(r.lineNo, "", fmt.Errorf("%w: no trailer at the end of the file (was it cut short?)", ErrTrailer))
	}
	return io.EOF
}

// readLine returns the next line of a fixed-width file without its line
// end. A line longer than the buffer is skipped and reported.
func (r *recordReader) readLine() ([]byte, error) {
	b, err := r.readRaw()
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return b, nil
}

// readRaw returns the next line with its line end, if it has one.
func (r *recordReader) readRaw() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if len(b) == 0 && err != nil {
		return nil, err
	}
	r.lineNo++
	if err == bufio.ErrBufferFull {
		for err == bufio.ErrBufferFull {
			_, err = r.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		return nil, r.perr(r.lineNo, "", fmt.Errorf("%w: more than %d bytes", ErrLongLine, r.br.Size()))
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// maxQuotedRecord bounds a CSV record whose quoted fields run over several
// lines; a longer one ends the file with ErrLongLine.
const maxQuotedRecord = 1 << 20

// readCSV returns the next CSV record and the line it starts on. A line
// without a quote, nearly every line, is split here; a record with quotes,
// which may run over several lines, is gathered whole and parsed by
// encoding/csv, so RFC 4180 quoting is the standard library's. Empty lines
// are skipped, as encoding/csv does.
func (r *recordReader) readCSV() ([]string, int, error) {
	for {
		raw, err := r.readRaw()
		if err != nil {
			return nil, r.lineNo, err
		}
		b := bytes.TrimSuffix(raw, []byte{'\n'})
		b = bytes.TrimSuffix(b, []byte{'\r'})
		start := r.lineNo
		if len(b) == 0 {
			continue
		}
		if bytes.IndexByte(b, '"') < 0 {
			return r.splitCSV(string(b)), start, nil
		}
		// Gather the record's lines as they are, line ends included, and
		// let encoding/csv read them.
		rec := append(r.qbuf[:0], raw...)
		for in := r.openQuote(b, false); in; in = r.openQuote(b, true) {
			more, err := r.readRaw()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, start, err
			}
			if len(rec)+len(more) > maxQuotedRecord {
				// Most likely a quote never closed: the rest of the file
				// would be gathered into this one record.
				return nil, start, fmt.Errorf("%w: a quoted record from line %d runs over more than %d bytes (a quote not closed?)",
					ErrLongLine, start, maxQuotedRecord)
			}
			rec = append(rec, more...)
			b = bytes.TrimSuffix(more, []byte{'\n'})
			b = bytes.TrimSuffix(b, []byte{'\r'})
		}
		r.qbuf = rec
		cr := csv.NewReader(bytes.NewReader(rec))
		cr.Comma = r.c.delim
		cr.FieldsPerRecord = -1
		fields, err := cr.Read()
		if err == nil {
			if _, err2 := cr.Read(); err2 != io.EOF {
				err = &csv.ParseError{StartLine: 1, Line: 1, Err: errors.New("more than one record on a line")}
			}
		}
		if err != nil {
			var ce *csv.ParseError
			if errors.As(err, &ce) {
				err = ce.Err
			}
			return nil, start, r.perr(start, "", fmt.Errorf("%w: %v", ErrSyntax, err))
		}
		return fields, start, nil
	}
}

// openQuote reports whether a CSV line ends inside a quoted field, so
// that the record goes on on the next line. in says whether the line
// starts inside one. Only a quote that opens a field opens a quoted field,
// as in encoding/csv; a stray quote elsewhere is an error it reports.
func (r *recordReader) openQuote(b []byte, in bool) bool {
	delim := string(r.c.delim)
	fieldStart := !in
	for i := 0; i < len(b); i++ {
		c := b[i]
		if in {
			if c == '"' {
				if i+1 < len(b) && b[i+1] == '"' {
					i++
					continue
				}
				in = false
			}
			continue
		}
		if fieldStart && c == '"' {
			in, fieldStart = true, false
			continue
		}
		fieldStart = false
		if c == delim[0] && strings.HasPrefix(string(b[i:]), delim) {
			fieldStart = true
			i += len(delim) - 1
		}
	}
	return in
}

// splitCSV splits a line that holds no quote at the delimiter. The fields
// share the line's memory.
func (r *recordReader) splitCSV(line string) []string {
	out := r.raw[:0]
	d := r.c.delim
	if d < utf8.RuneSelf {
		for {
			i := strings.IndexByte(line, byte(d))
			if i < 0 {
				break
			}
			out = append(out, line[:i])
			line = line[i+1:]
		}
	} else {
		ds := string(d)
		for {
			i := strings.Index(line, ds)
			if i < 0 {
				break
			}
			out = append(out, line[:i])
			line = line[i+len(ds):]
		}
	}
	out = append(out, line)
	r.raw = out
	return out
}

func (r *recordReader) readNames(raw []string) error {
	r.ncols = len(raw)
	r.colIdx = make([]int, len(r.c.detail.fields))
	pos := make(map[string]int, len(raw))
	for i, name := range raw {
		name = strings.ToUpper(strings.TrimSpace(name))
		if _, dup := pos[name]; !dup {
			pos[name] = i
		}
	}
	var missing []string
	for i, f := range r.c.detail.fields {
		j, ok := pos[f.name]
		if !ok {
			missing = append(missing, f.name)
		}
		r.colIdx[i] = j
	}
	if len(missing) > 0 {
		return r.perr(r.line, "", fmt.Errorf("%w: no column %s in the first row", ErrHeader, strings.Join(missing, ", ")))
	}
	return nil
}

// isRecord reports whether the line or CSV row carries rec's const values.
func (r *recordReader) isRecord(rec *crecord, line string, raw []string) bool {
	for _, i := range rec.consts {
		f := &rec.fields[i]
		var v string
		if r.c.fixed {
			if f.start+f.length > len(line) {
				return false
			}
			v = trimField(line[f.start:f.start+f.length], f)
		} else {
			if f.start >= len(raw) {
				return false
			}
			v = raw[f.start]
		}
		if v != f.konst {
			return false
		}
	}
	return true
}

// split cuts the record into its fields' values.
func (r *recordReader) split(line string, raw []string) *ParseError {
	rec := r.rec
	if cap(r.vals) < len(rec.fields) {
		r.vals = make([]string, len(rec.fields))
	}
	r.vals = r.vals[:len(rec.fields)]
	if r.c.fixed {
		switch {
		case len(line) < rec.length:
			return r.perr(r.line, "", fmt.Errorf("%w: %d characters, want %d", ErrShortLine, len(line), rec.length))
		case len(line) > rec.length:
			return r.perr(r.line, "", fmt.Errorf("%w: %d characters, want %d", ErrLongLine, len(line), rec.length))
		}
		for i := range rec.fields {
			f := &rec.fields[i]
			r.vals[i] = trimField(line[f.start:f.start+f.length], f)
		}
	} else {
		want := len(rec.fields)
		if r.colIdx != nil && r.which == recDetail {
			want = r.ncols
		}
		if len(raw) != want {
			return r.perr(r.line, "", fmt.Errorf("%w: %d fields, want %d", ErrFieldCount, len(raw), want))
		}
		for i := range rec.fields {
			j := i
			if r.colIdx != nil && r.which == recDetail {
				j = r.colIdx[i]
			}
			v := raw[j]
			if f := &rec.fields[i]; f.length > 0 && len(v) > f.length && utf8.RuneCountInString(v) > f.length {
				return r.perr(r.line, f.name, fmt.Errorf("%w: %d characters in a %d-character field", ErrFieldTooLong, utf8.RuneCountInString(v), f.length))
			}
			r.vals[i] = v
		}
	}
	for i := range rec.fields {
		if f := &rec.fields[i]; f.kind == kindKey && f.role != roleConst {
			if err := checkKey(r.vals[i], r.c.fixed); err != nil {
				return r.perr(r.line, f.name, err)
			}
		}
	}
	for _, i := range rec.consts {
		f := &rec.fields[i]
		if r.vals[i] != f.konst {
			return r.perr(r.line, f.name, fmt.Errorf("%w: %q, want %q", ErrConst, r.vals[i], f.konst))
		}
	}
	return nil
}

// trimField removes a fixed-width field's padding.
func trimField(s string, f *cfield) string {
	if f.pad == '0' && (f.kind == kindAmount || f.kind == kindCount) {
		// Zeros are digits: keep them, the number parsers accept them.
		return s
	}
	if f.right {
		i := 0
		for i < len(s) && s[i] == f.pad {
			i++
		}
		return s[i:]
	}
	j := len(s)
	for j > 0 && s[j-1] == f.pad {
		j--
	}
	return s[:j]
}

// amountOf parses field i of the current record as an amount, with its
// separate sign when it has one.
func (r *recordReader) amountOf(i int) (int64, error) {
	f := &r.rec.fields[i]
	var sep byte
	if f.sign == SignSeparate {
		sf := &r.rec.fields[f.signOf]
		switch s := r.vals[f.signOf]; {
		case s == string(sf.plus) || (s == "" && sf.plus == sf.pad):
			sep = '+'
		case s == string(sf.minus) || (s == "" && sf.minus == sf.pad):
			sep = '-'
		default:
			return 0, fmt.Errorf("%w: sign %q: want %q or %q", ErrAmount, s, sf.plus, sf.minus)
		}
	}
	return parseAmount(r.vals[i], f, r.c.minor, sep)
}
