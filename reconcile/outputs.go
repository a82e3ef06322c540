package reconcile

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
)

// outputs are the output files of one decision, each a temporary file
// here until it is published: the job's one output (part ""), and, when
// the job splits its output (Options.SeparateCollegeFiles), one per part
// of the lines (a college's business unit). A file is created by its
// first write, so only the parts that have lines exist. One output is the
// case of one part: the sequence (decide, publish, commit) is the same.
type outputs struct {
	rn    *runner
	job   string
	base  string // the name of the one output, deterministic from the input
	parts map[string]*outputPart
}

// outputPart is one output file of a decision.
type outputPart struct {
	name string // where it is published
	f    *os.File
	bw   *bufio.Writer
}

// outputSep separates the names of a file's outputs in its journal row
// (files.output), when it has several.
const outputSep = "\n"

func (rn *runner) newOutputs(job, base string) *outputs {
	return &outputs{rn: rn, job: job, base: base, parts: map[string]*outputPart{}}
}

// partName is where part of the output base is published: base itself
// for part "", else base with "-" and the part before its extension
// (feebridge-charges-0123456789abcdef-ARC01.dat).
func partName(base, part string) string {
	if part == "" {
		return base
	}
	ext := path.Ext(base)
	return strings.TrimSuffix(base, ext) + "-" + part + ext
}

// writer returns the writer of part, creating its file on first use.
func (o *outputs) writer(part string) (io.Writer, error) {
	if p, ok := o.parts[part]; ok {
		return p.bw, nil
	}
	f, err := o.rn.createTemp(o.job, "out")
	if err != nil {
		return nil, err
	}
	p := &outputPart{name: partName(o.base, part), f: f, bw: bufio.NewWriterSize(f, 1<<16)}
	o.parts[part] = p
	return p.bw, nil
}

// lazyWriter writes to one part of outputs, created by its first write.
type lazyWriter struct {
	o    *outputs
	part string
}

func (w lazyWriter) Write(b []byte) (int, error) {
	out, err := w.o.writer(w.part)
	if err != nil {
		return 0, err
	}
	return out.Write(b)
}

// flush writes out what the parts buffer.
func (o *outputs) flush() error {
	for _, p := range o.parts {
		if err := p.bw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// list returns the parts written, by name.
func (o *outputs) list() []*outputPart {
	out := make([]*outputPart, 0, len(o.parts))
	for _, p := range o.parts {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *outputPart) int { return strings.Compare(a.name, b.name) })
	return out
}

// names is the journal's output of the decision: the names of the parts
// written, by name, separated by outputSep.
func (o *outputs) names() string {
	var names []string
	for _, p := range o.list() {
		names = append(names, p.name)
	}
	return strings.Join(names, outputSep)
}

// remove closes and removes the temporary files.
func (o *outputs) remove() {
	for _, p := range o.parts {
		p.f.Close()
		os.Remove(p.f.Name())
	}
}

// outputNames splits the output of a file's journal row into the names
// of its outputs; none when it has none.
func outputNames(output string) []string {
	if output == "" {
		return nil
	}
	return strings.Split(output, outputSep)
}

// chargeWriter returns the writer of d's charge file: with
// Options.SeparateCollegeFiles, one charge file per part of the lines.
func (j *Jobs) chargeWriter(d *decision) ChargeWriter {
	if !j.opts.SeparateCollegeFiles {
		return j.deps.Charges.NewChargeWriter(d.out, d.asOf)
	}
	return &splitWriter{writers: map[string]ChargeWriter{}, open: func(part string) ChargeWriter {
		return j.deps.Charges.NewChargeWriter(lazyWriter{d.outs, part}, d.asOf)
	}}
}

// outputOf is the output a record of line goes to, when each college has
// a file of its own: its part's; else "" (the decision's one output).
func (j *Jobs) outputOf(d *decision, line ChargeLine) string {
	if !j.opts.SeparateCollegeFiles {
		return ""
	}
	return partName(d.output, line.Part)
}

// splitWriter writes each line to the charge file of its part, started
// by the part's first line; Close closes each, by part, with its trailer.
type splitWriter struct {
	writers map[string]ChargeWriter
	open    func(part string) ChargeWriter
}

func (s *splitWriter) Write(line ChargeLine) error {
	w, ok := s.writers[line.Part]
	if !ok {
		w = s.open(line.Part)
		s.writers[line.Part] = w
	}
	return w.Write(line)
}

func (s *splitWriter) Close() error {
	var errs []error
	for _, part := range slices.Sorted(maps.Keys(s.writers)) {
		errs = append(errs, s.writers[part].Close())
	}
	return errors.Join(errs...)
}
