// Package peoplesoft reads and writes the files feebridge exchanges with
// PeopleSoft Campus Solutions: the charge/credit file the library sends to
// the bursar, the payment file the bursar sends back, and the results of
// the bursar's load of a charge file (what it posted and what it refused).
//
// Every campus lays these files out its own way, so a layout is data, not
// code: a [Layout] describes the records and fields of a file and decodes
// from TOML (see [LoadLayout]). [ReferenceChargeLayout] and
// [ReferencePaymentLayout] are the layouts feesync uses when none is
// configured, and [ReferenceResultLayout] the one it reads the load's
// results in. A [Mapping] turns library fees and credits into charge
// lines.
//
// # Layouts
//
// A layout has a Kind ("charges", "payments" or "results"), a Format
// ("fixed" for positional records, "csv" for delimited records with RFC 4180 quoting),
// an optional header record, a detail record, and an optional trailer.
// Each record is a list of fields (see [Field] for the names a record may
// use). A fixed-width field has a 1-based Start column, a Length, a
// justification and a pad character; in a fixed-width record the fields
// must tile the record from column 1 with no gap and no overlap (a FILLER
// field fills unused columns). A field with a Const value is written as
// is and required when read; header, detail and trailer records are told
// apart by their Const fields.
//
// Amounts carry explicit decimals ("00000012.50") or implied ones
// ("0000001250", ImpliedDecimal), and their sign leads the value
// ([SignMinus], [SignAlways]), is left out ([SignNone]), or sits in a field of
// its own named after the amount with "_SIGN" appended ([SignSeparate]),
// whose marks are "+" and "-" unless its Signs say otherwise (such as
// "DC" for debit and credit).
// Dates and times use any Go time layout. CHANNEL and METHOD are written
// ESERVICES or CASHIER and CREDIT_CARD, CASH or CHECK, unless the field's
// Codes give the file's own codes (codes = { CREDIT_CARD = "CCRD" }),
// which are then written and read back. The trailer's control values
// (RECORD_COUNT, TOTAL, DEBIT_TOTAL, CREDIT_TOTAL) are written by the
// encoders and checked by the decoders.
//
// [Layout.Validate] (called by LoadLayout and by every encoder and
// decoder) refuses overlapping fields, gaps, unknown field names, missing
// required fields, a trailer that cannot be told from a detail record,
// and options that do not fit a field. [LoadLayout] also refuses unknown
// keys; its errors name the key, and the line when the TOML parser gives
// one. A layout table can be embedded in a larger TOML configuration and
// decoded with github.com/BurntSushi/toml; call Validate after decoding.
//
// # Values that do not fit
//
// A value longer than its field is an error ([ErrFieldTooLong]); nothing
// is cut silently. Only DESCR may be cut, and only when the layout says so
// with Truncate (the reference layout does). The column-safety rule for
// characters that could shift a column:
//
//   - Keys (EMPLID, ITEM_TYPE, ITEM_TERM, REF1_DESCR, BUSINESS_UNIT,
//     RECEIPT_NBR, CHANNEL, METHOD) are never altered: a control character (such as a tab or a
//     line end), or in a fixed-width file any non-ASCII character, makes
//     the record an error ([ErrCharset]), on writing and on reading.
//   - Free text (DESCR): control characters become spaces; in a
//     fixed-width file accented letters lose their accents ("é" → "e")
//     and any other non-ASCII character becomes "?".
//   - In a CSV file, a value holding the delimiter, a quote or a line end
//     is quoted (RFC 4180), so it cannot shift a column.
//
// # Charge files
//
// A [ChargeEncoder] writes the header before the first charge, one
// detail record per [Charge] (a negative Amount is a credit), and the
// trailer with the record count and signed total on Close. A charge that
// does not fit the layout returns an *[EncodeError], writes nothing, and
// the file goes on. [ChargeDecoder] reads charge files back (the simulated
// ledger in [github.com/feebridge/feebridge/peoplesoft/pstest] uses it).
//
// [Mapping.ChargeFor] and [Mapping.CreditFor] build charges from fees and
// credits: the item type mapped for the fee type ([DefaultMapping] holds
// the reference item types), the term that holds the as-of date (see
// [Calendar] and [DefaultCalendar]: Fall 2026 is "2268"), a due date
// DueDays after the as-of date, and the Alma bursar transaction id as
// REF1_DESCR. A fee that cannot be charged is a *[RejectError] naming the
// fee and the reason ([ErrUnmapped], [ErrNoTerm], [ErrFee]).
//
// # Payment files
//
// A [PaymentDecoder] returns one [Payment] per record. A bad record
// returns a *[ParseError] (file, line, field, and a cause such as
// [ErrAmount], [ErrDate], [ErrChannel], [ErrMethod] or [ErrDuplicate] for
// a key — receipt, reference and item type — seen before in the same file) and
// decoding goes on with the next record. A problem with the whole file (a
// bad header, a trailer that disagrees, a file above MaxBytes) is sticky;
// [IsFileError] tells the two kinds apart.
// A UTF-8 byte-order mark and "\r\n" line ends are accepted. Because the
// trailer comes last, a caller that must not act on a file whose trailer
// disagrees reads it to the end first.
//
// # The reference charge/credit file
//
// Fixed width, ASCII, "\n" line ends. The header is "H", the creation date
// (YYYYMMDD) and time (HHMMSS), and the origin "LIBRARY" left-justified in
// 10 columns. Each detail record is 113 characters:
//
//	col   1      "D"
//	cols  2–12   EMPLID, left-justified
//	cols 13–24   ITEM_TYPE (12 digits)
//	col  25      sign: "+" charge, "-" credit
//	cols 26–36   amount, 8 digits, point, 2 digits: 00000012.50
//	cols 37–40   ITEM_TERM
//	cols 41–48   DUE_DT, YYYYMMDD
//	cols 49–78   REF1_DESCR: the Alma bursar transaction id, left-justified
//	cols 79–108  description (cut to 30 characters)
//	cols 109–113 BUSINESS_UNIT: PeopleSoft's SF business unit of the
//	             college whose library owns the fee; blank when none is
//	             configured
//
// BUSINESS_UNIT comes last so that every earlier column stays where it
// was before it was added: a campus whose load definition stops at column
// 108 reads the same charges. In PeopleSoft Student Financials every
// charge belongs to an SF business unit (component BUSINESS_UNIT_SF, 5
// characters), and a district whose colleges run their own business units
// has the load post each line to its college's one (see [College]).
//
// The trailer is "T", the record count in 9 digits, and the signed total as
// a sign and 13 characters. A sample with two charges and a credit that
// reverses the second (from the ChargeEncoder example; the blanks at the
// end of the header and of each detail, the empty BUSINESS_UNIT, are not
// shown):
//
//	H20261128180500LIBRARY
//	D12345678   300000000001+00000123.4522682026122815216075630006761             Overdue fine: Ecology of the s
//	D12345678   300000000002+00000300.0022682026122815216075490006761             Lost item replacement fee: The
//	D12345678   300000000002-00000300.0022682026122815216075490006761             Credit: Lost item replacement
//	T000000003+0000000123.45
//
// The reference item types are OVERDUEFINE 300000000001,
// LOSTITEMREPLACEMENTFEE 300000000002, LOSTITEMPROCESSFEE 300000000003,
// DAMAGEDITEMFINE 300000000004, RECALLEDOVERDUEFINE 300000000005, OTHER
// 300000000006 and CREDIT 300000000099. A credit line carries the item
// type of the fee it reverses and the reference of the charge it lowers,
// the pair that names that charge; the CREDIT item type is never written
// (see [Mapping.CreditFor]).
//
// # The reference payment file
//
// CSV (RFC 4180, UTF-8, an optional byte-order mark) whose first row names
// the columns; columns are matched by name, in any order, and extra ones
// are ignored. PAID_DATE is YYYY-MM-DD, CHANNEL is ESERVICES or CASHIER,
// METHOD is CREDIT_CARD, CASH or CHECK, and a payment's key is RECEIPT_NBR
// and REF1_DESCR ([Payment.Key]):
//
//	EMPLID,REF1_DESCR,ITEM_TYPE,CHARGE_AMT,PAID_AMT,PAID_DATE,CHANNEL,METHOD,RECEIPT_NBR
//	12345678,15216075630006761,300000000001,123.45,123.45,2026-12-01,ESERVICES,CREDIT_CARD,E000104233
//	09876,15216075700006761,300000000002,100.00,40.00,2026-12-02,CASHIER,CASH,C000200017
//
// The file may end with a trailer row of control totals (optional:
// [Layout].TrailerOptional): "TRAILER", the number of payment rows, and
// the sum of their PAID_AMT, written like PAID_AMT. Every row whose
// PAID_AMT reads counts, also one held for another field:
//
//	TRAILER,2,163.45
//
// When the row is there and its count or total disagrees with the rows
// read (a file cut short), the decoder returns a whole-file error
// ([IsFileError]; [ErrTrailerCount], [ErrTrailerTotal]) on the trailer's
// line that names every value that disagrees, expected against read; the
// payments job then sends the whole file to failed/. A row after the
// trailer is a whole-file error too. Without the row, the file is read as
// it always was. [PaymentEncoder] writes the row only when asked
// ([PaymentEncoder.WithTrailer]). With column names, a row whose first
// field is "TRAILER" is the trailer, wherever the columns are.
//
// # Load results files
//
// A results file has one line per line of a charge file the load read:
// its REF1_DESCR and ITEM_TYPE as sent, a STATUS that holds one of two
// values (posted, refused; "POSTED" and "ERROR" unless the field's
// Values say otherwise), the load's MESSAGE, and optionally EMPLID,
// ITEM_TERM and the signed AMOUNT. [ResultDecoder] reads it; a line with
// another status, or without its reference or item type, is a
// *[ParseError] naming the file, line and field ([ErrStatus],
// [ErrMissing]), and the lines after it are read. [ResultEncoder] writes
// one (the simulated ledger does).
//
// # Other layouts
//
// The package's testdata/layouts holds two more: csv-charges.toml, a CSV
// charge file with a header record, a "D"/"C" column for the sign, and a
// trailer that gives the debit and credit totals apart; and implied-charges.toml, a fixed-width file with
// implied decimals ("000001250" is 12.50), the sign leading the amount,
// and two-digit record types.
//
// # Other student systems
//
// [BuiltinBursar] returns a student system's layouts and mapping by name:
// "peoplesoft" (the reference layouts and [DefaultMapping]), "banner"
// (Ellucian Banner Accounts Receivable) and "colleague" (Ellucian
// Colleague Student Finance). The last two are TOML files embedded from
// the package's bursars folder, one per layout and one per mapping, whose
// comments name the public sources of each format and what they assume;
// a campus copies one to start its own. No code is specific to either
// system: what their files need is said in the layout language (amounts in
// cents with ImpliedDecimal, codes for channels and methods) and in the
// mapping: [Mapping.ItemTypePattern] says what an item type looks like
// (Banner's detail codes are "[A-Z0-9]{4}", not 12 digits) and
// [Calendar.CodeFormat] how a term code is spelled ("{YYYY}{SUFFIX}" makes
// Banner's "202630", "{YY}/{SUFFIX}" Colleague's "26/FA").
//
// # Performance
//
// Encoders and decoders stream: memory does not grow with the file, except
// for the payment decoder's set of keys seen (16 to 32 bytes a payment, to
// find duplicates; [DecodeOptions.AllowDuplicates] turns it off). Decoders
// keep the amounts they built, since building a [fees.Money] allocates and
// library fines repeat a few values. The benchmarks write and read
// 1,000,000 lines per iteration (go test -run '^$' -bench . -benchtime 3x
// ./peoplesoft, with GOMAXPROCS=1 for one core); the README's "Performance
// and reliability" section gives the figures.
package peoplesoft
