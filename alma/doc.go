// Package alma connects feebridge to Ex Libris Alma, the library system:
// it reads the bursar export files Alma leaves on the library's file
// server, writes the bursar import files Alma reads back, and talks to
// Alma's REST API and webhooks.
//
// # Bursar export files
//
// Every evening Alma exports the library's active fines and fees to an XML
// file (flow F2), and every hour the waivers, as credits (F4). An
// [ExportDecoder] reads such a file one fine or fee at a time, as an
// [ExportRecord]: the patron ([Patron]), the fee type, the signed amount,
// the bursarTransactionId that, with the fee type, keys the record, the item, the owning
// library, the comment and the date of the last transaction. It never
// holds the file in memory, so a file of a million fees is read in the
// same few megabytes as a file of ten (plus, for the duplicate check
// below, one to nine bytes a fee: two or three for ids that follow each
// other, about four for Alma ids a thousand apart in random order).
//
// The decoder takes Alma's files as Alma really writes them: the export
// number and the users in two sibling userExportedFineFees elements, the
// misspelled itemCallNumebr, xsi:nil and empty elements, an InstitutionId
// of "null", non-numeric identifiers, amounts without fixed decimals
// ("300", "0.82"), dates with or without a zone suffix ("03/11/2013
// 10:16:12 IST"; see [DecoderOptions] for the zones), credits as type
// CREDIT or as a negative sum, entities, CDATA and any namespace prefix.
// Text is returned with its white space collapsed, so a title Alma wrapped
// over two lines reads as one.
//
// Money is exact (see [fees.Money]). A record whose amount is missing,
// zero, malformed or has more decimals than its currency, whose currency
// is unknown, whose bursarTransactionId is missing or was already used in
// the file with the same fee type, or that lacks a user or a fee type, comes back as a
// [*ParseError] that names the file, the line, the user and the
// transaction, and wraps a cause such as [ErrAmount] or
// [ErrDuplicateTransactionID]. The next call to [ExportDecoder.Decode]
// goes on with the next record: the caller collects the refusals for the
// exceptions report, or stops at the first. Helpers [ExportRecord.Fee]
// and [ExportRecord.Credit] turn a record into the domain's types.
//
// A bursarTransactionId is not one fee's alone: Alma gives one id to the
// fees of a user and item that differ in fine/fee type (MIT's real export
// has one id on an overdue fine, a damaged-item fine, a recalled-overdue
// fine, a lost-item processing fee and an OTHER fee). A fee's identity on
// the bursar side, its charge key ([fees.ChargeKey]), is the pair (id,
// type); the decoder refuses a pair seen twice, not an id.
//
// The file must be well-formed XML; if not, Decode returns a *ParseError
// wrapping [ErrSyntax] with the line, and stops for good. The decoder
// runs on its own streaming XML scanner, made for this flat format, which
// checks tags, names, attributes, entities, character references,
// comments, CDATA, processing instructions and UTF-8 as an XML parser
// must. It refuses a DOCTYPE (no entity is ever expanded), elements nested
// deeper than 32, and any single tag or text longer than 1 MiB.
//
// # Bursar import files
//
// When the bursar (PeopleSoft) reports payments, feebridge writes them for
// Alma's hourly import (F3) with an [ImportEncoder]: one userFineFee a
// payment, in the export's own structure, with compositeSum the amount
// paid, and bursarTransactionId and fineFeeType the fee it pays (its
// charge key, as one id may be shared by fees of different types). Alma
// matches on them and records a "Payment Imported". An [ExportEncoder] writes export files
// the same way, with their export number; feebridge's fake Alma uses it.
// Decoding what either encoder wrote gives back the same records.
//
// Alma names its bursar files <profile>-<jobid>-<timestamp>.xml, the time
// stamp being the Unix time of the run in milliseconds; [FileName] and
// [ParseFileName] make and read such names.
//
// # Performance
//
// The decoder streams: its memory does not grow with the file, except for
// the set of charge keys it keeps for the duplicate check, which
// [DecoderOptions.AllowDuplicates] turns off. [NewExportDecoderAt]
// decodes a large file in parts on all the cores, with the same records,
// errors and lines. BenchmarkExportDecoder,
// BenchmarkExportDecoderStream and BenchmarkExportEncoder measure the
// codecs, and the test-only program testdata/bursar/convert times a whole
// conversion; the README's "Performance and reliability" section gives
// the figures with their commands.
//
// # REST API and webhooks
//
// The package also holds the [Client] for Alma's REST API (users' fees,
// payments and waivers, loans, items, user blocks and Analytics reports,
// with rate limiting and retries; failures are an [*Error]) and the
// [WebhookHandler], an http.Handler that checks the signature of Alma's webhook deliveries and
// hands loan events to feebridge, so that a lost item returned to the
// library has its fees waived (F5).
package alma
