package peoplesoft

func intp(n int) *int { return &n }

// ReferenceChargeLayout returns the reference charge/credit file layout,
// the one feesync writes when no layout is configured: fixed width, ASCII,
// "\n" line ends (see the package documentation for the columns and a
// sample). Each call returns a new Layout the caller may change.
func ReferenceChargeLayout() *Layout {
	return &Layout{
		Name:   "reference charges",
		Kind:   KindCharges,
		Format: FormatFixed,
		Header: &Record{Length: 25, Fields: []Field{
			{Name: "RECORD_TYPE", Start: 1, Length: 1, Const: "H"},
			{Name: "CREATED_DATE", Start: 2, Length: 8, Format: "20060102"},
			{Name: "CREATED_TIME", Start: 10, Length: 6, Format: "150405"},
			{Name: "ORIGIN", Start: 16, Length: 10, Const: "LIBRARY"},
		}},
		Detail: Record{Length: 113, Fields: []Field{
			{Name: "RECORD_TYPE", Start: 1, Length: 1, Const: "D"},
			{Name: "EMPLID", Start: 2, Length: 11},
			{Name: "ITEM_TYPE", Start: 13, Length: 12},
			{Name: "AMOUNT_SIGN", Start: 25, Length: 1},
			{Name: "AMOUNT", Start: 26, Length: 11, Decimals: intp(2), Sign: SignSeparate},
			{Name: "ITEM_TERM", Start: 37, Length: 4},
			{Name: "DUE_DT", Start: 41, Length: 8, Format: "20060102"},
			{Name: "REF1_DESCR", Start: 49, Length: 30},
			{Name: "DESCR", Start: 79, Length: 30, Truncate: true},
			{Name: "BUSINESS_UNIT", Start: 109, Length: 5},
		}},
		Trailer: &Record{Length: 24, Fields: []Field{
			{Name: "RECORD_TYPE", Start: 1, Length: 1, Const: "T"},
			{Name: "RECORD_COUNT", Start: 2, Length: 9},
			{Name: "TOTAL", Start: 11, Length: 14, Decimals: intp(2), Sign: SignAlways},
		}},
	}
}

// ReferencePaymentLayout returns the reference payment file layout: CSV
// (RFC 4180, UTF-8, an optional byte-order mark) whose first row names the
// columns EMPLID, REF1_DESCR, ITEM_TYPE, CHARGE_AMT, PAID_AMT, PAID_DATE,
// CHANNEL, METHOD and RECEIPT_NBR, and an optional trailer row, last:
// TRAILER, the number of payment rows and the sum of their PAID_AMT
// ("TRAILER,7,28.00"). Each call returns a new Layout.
func ReferencePaymentLayout() *Layout {
	return &Layout{
		Name:            "reference payments",
		Kind:            KindPayments,
		Format:          FormatCSV,
		ColumnNames:     true,
		TrailerOptional: true,
		Trailer: &Record{Fields: []Field{
			{Name: "RECORD_TYPE", Const: "TRAILER"},
			{Name: "RECORD_COUNT"},
			{Name: "TOTAL", Sign: SignNone},
		}},
		Detail: Record{Fields: []Field{
			{Name: "EMPLID", Length: 11},
			{Name: "REF1_DESCR", Length: 30},
			{Name: "ITEM_TYPE", Length: 12},
			{Name: "CHARGE_AMT", Sign: SignNone},
			{Name: "PAID_AMT", Sign: SignNone},
			{Name: "PAID_DATE", Format: "2006-01-02"},
			{Name: "CHANNEL"},
			{Name: "METHOD"},
			{Name: "RECEIPT_NBR", Length: 30},
		}},
	}
}

// ReferenceResultLayout returns the reference layout of the results of
// PeopleSoft's load of a charge file: CSV (RFC 4180, UTF-8, an optional
// byte-order mark) whose first row names the columns REF1_DESCR,
// ITEM_TYPE, EMPLID, AMOUNT (signed, as sent), STATUS (POSTED or ERROR)
// and MESSAGE, one row per line of the charge file, and an optional
// trailer row, last: TRAILER, the number of rows and the sum of their
// AMOUNT ("TRAILER,3,-12.50"). PeopleSoft reports what its load posted
// and refused per line (an unknown student id, an item type not set up, a
// term not open, a reversal of a charge it does not hold); a campus
// writes that report out as this file. Each call returns a new Layout.
func ReferenceResultLayout() *Layout {
	return &Layout{
		Name:            "reference results",
		Kind:            KindResults,
		Format:          FormatCSV,
		ColumnNames:     true,
		TrailerOptional: true,
		Trailer: &Record{Fields: []Field{
			{Name: "RECORD_TYPE", Const: "TRAILER"},
			{Name: "RECORD_COUNT"},
			{Name: "TOTAL"},
		}},
		Detail: Record{Fields: []Field{
			{Name: "REF1_DESCR", Length: 30},
			{Name: "ITEM_TYPE", Length: 12},
			{Name: "EMPLID", Length: 11},
			{Name: "AMOUNT"},
			{Name: "STATUS", Values: []string{"POSTED", "ERROR"}},
			{Name: "MESSAGE", Length: 254},
		}},
	}
}
