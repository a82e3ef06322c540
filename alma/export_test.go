package alma

import "io"

// NewExportDecoderInParts is NewExportDecoderAt with parts of about part
// bytes, cuts looked for in windows of window bytes (at least four times
// the user's start tag) and the given number of workers, for tests that
// cut small files many ways.
func NewExportDecoderInParts(r io.ReaderAt, size int64, opts *DecoderOptions, part int64, window, workers int) *ExportDecoder {
	return newExportDecoderAt(r, size, opts, part, window, workers)
}

// ReadInParts reports whether d decodes in parts, and whether it went on
// in one goroutine after a part it could not trust.
func ReadInParts(d *ExportDecoder) (inParts, wholeAgain bool) {
	if d.parts == nil {
		return false, false
	}
	return true, d.parts.serial != nil
}
