package alma

import (
	"bytes"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/feebridge/feebridge/alma/internal/xmlscan"
)

// How NewExportDecoderAt divides a file: parts of about partSize bytes,
// in files of at least partMinFile bytes, at most partsAhead parts decoded
// ahead of the reader (the bound on what is in memory: about 0.5 MB of
// records a part).
const (
	partSize    = 1 << 20
	partMinFile = 4 << 20
	partsAhead  = 4
	probeSize   = 1 << 20 // how far the first user may be from the start
	partRead    = 64 << 10
)

// NewExportDecoderAt returns a decoder that reads the size bytes of r, a
// file, as NewExportDecoder(io.NewSectionReader(r, 0, size), opts) does:
// the same records and errors, with the same lines, in the same order.
// A large file (several megabytes) is decoded in parts on all the cores
// (GOMAXPROCS) while the caller reads the records of the parts before;
// decoding duplicate checks ([DecoderOptions.AllowDuplicates] false)
// stay in one goroutine, as does any file that does not look like an
// export made of users side by side.
//
// The parts are cut before a user element (userExportedFineFeesList) and
// checked as they are read: each part must end where the next begins,
// between two tokens, inside the same elements as the first user of the
// file, and no part but the first may hold an exportNumber. Where a check
// fails, or a part ends in malformed XML or a read error, the decoder
// reads the file again from the start in one goroutine, passes over the
// records it already returned, and goes on from there: the errors of such
// a file are the serial decoder's own.
//
// Close stops the goroutines of a decoder that is not read to its end.
func NewExportDecoderAt(r io.ReaderAt, size int64, opts *DecoderOptions) *ExportDecoder {
	return newExportDecoderAt(r, size, opts, partSize, runtime.GOMAXPROCS(0))
}

// newExportDecoderAt is NewExportDecoderAt with parts of about part bytes
// and workers goroutines.
func newExportDecoderAt(r io.ReaderAt, size int64, opts *DecoderOptions, part int64, workers int) *ExportDecoder {
	whole := func() *ExportDecoder { return NewExportDecoder(io.NewSectionReader(r, 0, size), opts) }
	if workers < 2 || size < 4*part || opts == nil || !opts.AllowDuplicates {
		return whole()
	}
	p := &partDecoder{r: r, size: size, opts: *opts, part: part, whole: whole}
	if !p.probe() {
		return whole()
	}
	p.start(workers)
	return &ExportDecoder{parts: p}
}

// Close stops the goroutines that decode a file in parts
// ([NewExportDecoderAt]) before its end, and waits for them. It returns
// nil; Decode must not be called after it, nor at the same time.
func (d *ExportDecoder) Close() error {
	if d.parts != nil {
		d.parts.stop()
	}
	return nil
}

// partDecoder decodes a file in parts, on several goroutines, and hands
// out their records in file order (next).
type partDecoder struct {
	r     io.ReaderAt
	size  int64
	opts  DecoderOptions
	part  int64
	whole func() *ExportDecoder

	// What the probe found before the first user: the elements open
	// around it, its start tag, the exportNumber and how many there were.
	open          []string
	cutTag        []byte
	exportNum     string
	exportNumbers int

	claimed atomic.Int64       // parts claimed by the workers
	tokens  chan struct{}      // a token for each part that may be decoded ahead
	slots   []chan *partResult // part k goes to slots[k%len(slots)]
	free    chan []partItem    // item slices to reuse
	quit    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	// The reader's side.
	k         int         // next part to receive
	cur       *partResult // part being handed out
	i         int         // next item of cur
	lineBase  int         // lines before cur
	delivered int         // records and errors handed out
	serial    *ExportDecoder
	err       error // io.EOF once the last part is handed out
}

// partItem is what one Decode of a part returned.
type partItem struct {
	rec ExportRecord
	err error
}

// partResult is a decoded part.
type partResult struct {
	items   []partItem
	lines   int  // line breaks in the part
	trusted bool // the part's records may be handed out: no exportNumber the probe did not see
	clean   bool // the part ended as the next part assumes it begins
	last    bool // the part ends at the end of the file
}

// probe reads the start of the file up to the first user's start tag, and
// reports whether the file may be decoded in parts: a user found within
// probeSize bytes, outside any element that means something to the
// decoder.
func (p *partDecoder) probe() bool {
	s := xmlscan.New(io.NewSectionReader(p.r, 0, min(p.size, probeSize)), bursarElemKind)
	s.EndInside()
	d := newExportDecoder(s, &p.opts)
	for {
		tok, err := s.Next()
		if err != nil {
			return false
		}
		if tok.Kind == xmlscan.Start && roleOf(d.top(), bursarElem(tok.Name.Tag)) == rolePatron {
			for _, r := range d.roles {
				if r != roleNone {
					return false
				}
			}
			open := s.Open()
			p.open = open[:len(open)-1]
			p.cutTag = append([]byte("<"), tok.Name.QName...)
			p.exportNum, p.exportNumbers = d.exportNumber, d.exportNumbers
			return true
		}
		if d.token(tok) {
			return false // a fee outside a user
		}
	}
}

// top is the role of the innermost open element.
func (d *ExportDecoder) top() bursarRole {
	if len(d.roles) == 0 {
		return roleNone
	}
	return d.roles[len(d.roles)-1]
}

func (p *partDecoder) start(workers int) {
	p.tokens = make(chan struct{}, partsAhead)
	p.slots = make([]chan *partResult, partsAhead)
	for i := range p.slots {
		p.tokens <- struct{}{}
		p.slots[i] = make(chan *partResult, 1)
	}
	p.free = make(chan []partItem, partsAhead+workers)
	p.quit = make(chan struct{})
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
}

// stop ends the workers and waits for them.
func (p *partDecoder) stop() {
	p.once.Do(func() {
		close(p.quit)
		p.wg.Wait()
	})
}

// work decodes parts, each once a token allows it, until the file ends or
// stop.
func (p *partDecoder) work() {
	defer p.wg.Done()
	var buf []byte
	var s *xmlscan.Scanner // reused from part to part
	for {
		select {
		case <-p.tokens:
		case <-p.quit:
			return
		}
		k := p.claimed.Add(1) - 1
		if k*p.part >= p.size {
			return
		}
		var res *partResult
		buf, s, res = p.decodePart(k, buf, s)
		p.slots[k%int64(len(p.slots))] <- res
	}
}

// decodePart reads and decodes part k, with buf as its buffer and, past
// the first part, s as its scanner, if not nil.
func (p *partDecoder) decodePart(k int64, buf []byte, s *xmlscan.Scanner) ([]byte, *xmlscan.Scanner, *partResult) {
	res := &partResult{}
	select {
	case res.items = <-p.free:
	default:
	}
	buf, from, to, err := p.readPart(k, buf)
	if err != nil {
		return buf, s, res // neither trusted nor clean: read again whole
	}
	res.last = to == len(buf) && k*p.part+int64(len(buf)) == p.size
	in := bytes.NewReader(buf[from:to])
	switch {
	case k == 0:
		s = xmlscan.New(in, bursarElemKind)
	case s == nil:
		s = xmlscan.NewPart(in, bursarElemKind, p.open)
	default:
		s.ResetPart(in, p.open)
	}
	if !res.last {
		s.EndInside()
	}
	d := newExportDecoder(s, &p.opts)
	if k > 0 {
		d.roles = d.roles[:len(p.open)] // all roleNone, as the probe saw
	}
	for {
		rec, err := d.Decode()
		if err == io.EOF {
			res.clean = res.last || equalNames(s.Open(), p.open)
			break
		}
		if IsFileError(err) {
			break
		}
		res.items = append(res.items, partItem{rec: rec, err: err})
	}
	res.lines = s.Line() - 1
	want := 0
	if k == 0 {
		want = p.exportNumbers
	}
	res.trusted = d.exportNumbers == want
	return buf, s, res
}

func equalNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// readPart reads part k into buf: from its nominal start, k*p.part, to
// the first cut at or after the next part's nominal start (or the end of
// the file). It returns where the part begins and ends in buf: the first
// cut at or after its nominal start (0 for the first part), and that next
// cut, or len(buf) at the end of the file.
func (p *partDecoder) readPart(k int64, buf []byte) ([]byte, int, int, error) {
	start := k * p.part
	n := min(p.part, p.size-start)
	buf = grow(buf[:0], int(n))
	if _, err := p.r.ReadAt(buf, start); err != nil {
		return buf, 0, 0, err
	}
	to, searched := -1, len(buf)
	for to < 0 && start+int64(len(buf)) < p.size {
		more := min(int64(partRead), p.size-start-int64(len(buf)))
		old := len(buf)
		buf = grow(buf, old+int(more))
		if _, err := p.r.ReadAt(buf[old:], start+int64(old)); err != nil {
			return buf, 0, 0, err
		}
		to = p.cutIn(buf, max(searched-len(p.cutTag), int(n)))
		searched = len(buf)
	}
	if to < 0 {
		to = len(buf)
	}
	from := 0
	if k > 0 {
		if from = p.cutIn(buf[:min(len(buf), to+len(p.cutTag)+1)], 0); from < 0 || from > to {
			from = to
		}
	}
	return buf, from, to, nil
}

// grow returns buf with length n, keeping its bytes.
func grow(buf []byte, n int) []byte {
	if cap(buf) >= n {
		return buf[:n]
	}
	nb := make([]byte, n, n+n/8)
	copy(nb, buf)
	return nb
}

// cutIn returns the offset in b, at or after from, of the first start tag
// of a user, named as the probe found the first one and seen to its name's
// end; or -1.
func (p *partDecoder) cutIn(b []byte, from int) int {
	for from < len(b) {
		i := bytes.Index(b[from:], p.cutTag)
		if i < 0 {
			return -1
		}
		at := from + i
		end := at + len(p.cutTag)
		if end >= len(b) {
			return -1
		}
		if c := b[end]; xmlscan.IsSpace(c) || c == '>' || c == '/' {
			return at
		}
		from = at + 1
	}
	return -1
}

// next hands out the next record or error, part after part.
func (p *partDecoder) next() (ExportRecord, error) {
	for {
		if p.serial != nil {
			return p.serial.Decode()
		}
		if p.err != nil {
			return ExportRecord{}, p.err
		}
		if p.cur != nil && p.i < len(p.cur.items) {
			it := &p.cur.items[p.i]
			p.i++
			p.delivered++
			return p.shiftLines(it)
		}
		if p.cur != nil {
			if !p.cur.clean {
				p.readWhole()
				continue
			}
			if p.cur.last {
				p.err = io.EOF
				p.stop()
				continue
			}
			p.lineBase += p.cur.lines
			p.release()
		}
		p.cur, p.i = <-p.slots[p.k%len(p.slots)], 0
		p.k++
		if !p.cur.trusted {
			p.readWhole()
		}
	}
}

// shiftLines returns the record or error of it with its lines counted
// from the start of the file.
func (p *partDecoder) shiftLines(it *partItem) (ExportRecord, error) {
	if it.err != nil {
		if pe, ok := it.err.(*ParseError); ok {
			pe.Line += p.lineBase
		}
		return ExportRecord{}, it.err
	}
	it.rec.Line += p.lineBase
	return it.rec, nil
}

// release gives the part handed out its token back, and its items for
// reuse.
func (p *partDecoder) release() {
	items := p.cur.items
	clear(items)
	select {
	case p.free <- items[:0]:
	default:
	}
	p.cur = nil
	p.tokens <- struct{}{}
}

// readWhole goes on in one goroutine: it stops the workers, reads the
// file again from the start and passes over what was handed out.
func (p *partDecoder) readWhole() {
	p.stop()
	p.cur = nil
	d := p.whole()
	for range p.delivered {
		if _, err := d.Decode(); IsFileError(err) || err == io.EOF {
			break
		}
	}
	p.serial = d
}

// exportNumber is the file's exportNumber as far as it was read.
func (p *partDecoder) exportNumber() string {
	if p.serial != nil {
		return p.serial.ExportNumber()
	}
	return p.exportNum
}
