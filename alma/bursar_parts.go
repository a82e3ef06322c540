package alma

import (
	"bytes"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/feebridge/feebridge/alma/internal/xmlscan"
)

// How NewExportDecoderAt divides a file: parts of about partSize bytes,
// in files of at least partsMin parts, at most partsAhead parts decoded
// ahead of the reader (the bound on what is in memory: about 120 kB of
// records a part).
const (
	partSize   = 256 << 10
	partsMin   = 4
	partsAhead = 4
	probeSize  = 1 << 20  // how far the first user may be from the start
	cutWindow  = 16 << 10 // how much is read at a time to find a cut
)

// NewExportDecoderAt returns a decoder that reads the size bytes of r, a
// file, as NewExportDecoder(io.NewSectionReader(r, 0, size), opts) does:
// the same records and errors, with the same lines, in the same order.
// A large file (a megabyte or more) is decoded in parts on all the cores
// (GOMAXPROCS) while the caller reads the records of the parts before.
// The decoder keeps to one goroutine with duplicate checks
// ([DecoderOptions.AllowDuplicates] false), which need the file's order,
// and for a file that does not look like an export made of users side
// by side.
//
// The parts are cut before a user element (userExportedFineFeesList) and
// checked as they are read: each part must end where the next begins,
// between two tokens, inside the same elements as the first user of the
// file, and no part but the first may hold an exportNumber. Where a check
// fails, or a part ends in malformed XML or a read error, the decoder
// reads the file again from the start in one goroutine, passes over the
// records it already returned, and goes on from there: the errors of such
// a file are the serial decoder's own. (A read error may come after more
// records than NewExportDecoder reads before it: the parts read the file
// in other pieces than its buffer.)
//
// Close stops the goroutines of a decoder that is not read to its end.
func NewExportDecoderAt(r io.ReaderAt, size int64, opts *DecoderOptions) *ExportDecoder {
	return newExportDecoderAt(r, size, opts, partSize, cutWindow, runtime.GOMAXPROCS(0))
}

// newExportDecoderAt is NewExportDecoderAt with parts of about part bytes,
// cuts looked for window bytes at a time (at least four times the user's
// start tag) and workers goroutines.
func newExportDecoderAt(r io.ReaderAt, size int64, opts *DecoderOptions, part int64, window, workers int) *ExportDecoder {
	whole := func() *ExportDecoder { return NewExportDecoder(io.NewSectionReader(r, 0, size), opts) }
	if workers < 2 || size < partsMin*part || opts == nil || !opts.AllowDuplicates {
		return whole()
	}
	p := &partDecoder{r: r, size: size, opts: *opts, part: part, window: window, whole: whole}
	p.memo.from, p.memo.cut = -1, -2 // nothing known
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
	r      io.ReaderAt
	size   int64
	opts   DecoderOptions
	part   int64
	window int
	whole  func() *ExportDecoder

	// What the probe found before the first user: the elements open
	// around it, its start tag, the exportNumber and how many there were.
	open          []string
	cutTag        []byte
	exportNum     string
	exportNumbers int

	// memo is the furthest cut found and where the search for it began.
	memo struct {
		sync.Mutex
		from, cut int64
	}

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
// probeSize bytes, inside the root element, outside any element that
// means something to the decoder.
func (p *partDecoder) probe() bool {
	s := xmlscan.New(io.NewSectionReader(p.r, 0, min(p.size, probeSize)), bursarElemKind)
	s.EndInside()
	d := newExportDecoder(s, &p.opts)
	for {
		tok, err := s.Scan()
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
			if len(open) < 2 {
				// The user is the root element: a document of one user,
				// whose parts could not tell a second root from a user.
				return false
			}
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
	w := &partWorker{win: make([]byte, max(p.window, 4*len(p.cutTag)))}
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
		res = p.decodePart(k, w)
		p.slots[k%int64(len(p.slots))] <- res
	}
}

// partWorker is what a worker keeps from part to part: its window to
// look for cuts in, its scanner and the decoder's buffers and shared
// values.
type partWorker struct {
	win []byte
	s   *xmlscan.Scanner
	d   *ExportDecoder
}

// decodePart decodes part k.
func (p *partDecoder) decodePart(k int64, w *partWorker) *partResult {
	res := &partResult{}
	select {
	case res.items = <-p.free:
	default:
	}
	from, to, err := p.bounds(k, w.win)
	if err != nil {
		return res // neither trusted nor clean: read again whole
	}
	res.last = to == p.size
	in := io.NewSectionReader(p.r, from, to-from)
	switch {
	case k == 0:
		w.s = xmlscan.New(in, bursarElemKind)
	case w.s == nil:
		w.s = xmlscan.NewPart(in, bursarElemKind, p.open)
	default:
		w.s.ResetPart(in, p.open)
	}
	s := w.s
	if !res.last {
		s.EndInside()
	}
	d := newExportDecoder(s, &p.opts)
	if k > 0 {
		d.roles = d.roles[:len(p.open)] // all roleNone, as the probe saw
	}
	if w.d != nil {
		d.sharedValues, d.value, d.pending, d.spans = w.d.sharedValues, w.d.value[:0], w.d.pending[:0], w.d.spans[:0]
	}
	w.d = d
	for {
		rec, err := d.Decode()
		if err == io.EOF {
			res.clean = res.last || slices.Equal(s.Open(), p.open)
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
	return res
}

// bounds returns where part k begins and ends in the file: at the first
// cut at or after its nominal start, k*p.part (0 for the first part), up
// to the first cut at or after the next part's nominal start, or the end
// of the file. win is a buffer to read in.
func (p *partDecoder) bounds(k int64, win []byte) (from, to int64, err error) {
	// The start first: the search for it often finds the end too (see
	// cutAt).
	if k > 0 {
		if from, err = p.cutAt(k*p.part, win); err != nil {
			return 0, 0, err
		}
	}
	to = p.size
	if next := (k + 1) * p.part; next < p.size {
		if to, err = p.cutAt(next, win); err != nil {
			return 0, 0, err
		}
	}
	return min(from, to), to, nil
}

// cutAt returns the offset of the first cut at or after off, or the size
// of the file, reading win at a time. The furthest answer found is kept:
// it answers for every offset between where its search began and it, so
// that the parts inside a long stretch without a cut (a user with
// thousands of fees, a hostile file) do not each read that stretch again.
func (p *partDecoder) cutAt(off int64, win []byte) (int64, error) {
	p.memo.Lock()
	from, cut := p.memo.from, p.memo.cut
	p.memo.Unlock()
	if from <= off && off <= cut {
		return cut, nil
	}
	cut, err := p.findCut(off, win)
	if err == nil {
		p.memo.Lock()
		if cut > p.memo.cut || cut == p.memo.cut && off < p.memo.from {
			p.memo.from, p.memo.cut = off, cut
		}
		p.memo.Unlock()
	}
	return cut, err
}

// findCut is cutAt without the memo.
func (p *partDecoder) findCut(off int64, win []byte) (int64, error) {
	for off < p.size {
		n := int(min(int64(len(win)), p.size-off))
		if m, err := p.r.ReadAt(win[:n], off); m < n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the file is shorter than it was
			}
			return 0, err
		}
		if i := p.cutIn(win[:n], 0); i >= 0 {
			return off + int64(i), nil
		}
		if off+int64(n) >= p.size {
			break
		}
		// A start tag cut by the window's end is looked at again whole.
		off += int64(n - len(p.cutTag))
	}
	return p.size, nil
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
