package almatest

import (
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// handler routes the REST API. Every call goes through serveAPI, which
// counts it, injects faults and checks the key before the route runs.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	p := func(method, path string, h func(http.ResponseWriter, *http.Request) error) {
		mux.HandleFunc(method+" "+BasePath+"/"+path, func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				s.writeError(w, r, fromDomain(err))
			}
		})
	}
	p("GET", "users/{user_id}", s.getUser)
	p("PUT", "users/{user_id}", s.putUser)
	p("GET", "users/{user_id}/fees", s.getFees)
	p("POST", "users/{user_id}/fees", s.createFee)
	p("GET", "users/{user_id}/fees/{fee_id}", s.getFee)
	p("POST", "users/{user_id}/fees/{fee_id}", s.feeAction)
	p("GET", "users/{user_id}/loans", s.getLoans)
	p("GET", "users/{user_id}/loans/{loan_id}", s.getLoan)
	p("GET", "items", s.getItemByBarcode)
	p("GET", "bibs/{mms_id}/holdings/{holding_id}/items/{item_pid}", s.getItem)
	p("GET", "analytics/reports", s.getReport)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(mux, w, r)
	})
}

func (s *Server) serveAPI(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	_, pattern := mux.Handler(r)
	route := "unknown"
	if method, path, ok := strings.Cut(pattern, " "); ok {
		route = method + " " + strings.TrimPrefix(path, BasePath+"/")
	}
	f, slow, remaining := s.decide(route)
	s.countCall(route, r, f)
	if f == faultDrop {
		dropConn(w)
		return
	}
	if slow > 0 {
		t := time.NewTimer(slow)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	w.Header().Set("X-Exl-Api-Remaining", strconv.Itoa(remaining))
	if !s.authorized(r) {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeUnauthorized, "API-key not defined or not configured to allow this API."))
		return
	}
	switch f {
	case faultPerSecond, fault429:
		s.writeError(w, r, errorf(http.StatusTooManyRequests, CodePerSecondThreshold, "HTTP requests are more than allowed per second"))
		return
	case faultDaily:
		s.writeError(w, r, errorf(http.StatusTooManyRequests, CodeDailyThreshold, "Daily API Request Threshold has been reached."))
		return
	case fault500:
		s.writeError(w, r, errorf(http.StatusInternalServerError, CodeGeneralError, "General error."))
		return
	case fault503:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n")
		return
	}
	if pattern == "" {
		s.writeError(w, r, errorf(http.StatusNotFound, CodeNotFound, "No such API: %s %s", r.Method, r.URL.Path))
		return
	}
	if !wantsJSON(r) && r.Method != http.MethodGet {
		// Alma would answer XML; the fake answers JSON only, so it refuses
		// a write before doing anything rather than hide the caller's
		// mistake. Reads get their errors in XML, and 406 instead of a
		// success body (see okJSON).
		s.writeError(w, r, errXMLBody())
		return
	}
	if f == faultLostAnswer {
		mux.ServeHTTP(httptest.NewRecorder(), r)
		dropConn(w)
		return
	}
	mux.ServeHTTP(w, r)
}

// dropConn closes the connection under w without an answer.
func dropConn(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // closes the connection under HTTP/2 too
}

// authorized accepts the key in "Authorization: apikey <key>" or in the
// apikey query parameter, as Alma does.
func (s *Server) authorized(r *http.Request) bool {
	k, ok := strings.CutPrefix(r.Header.Get("Authorization"), "apikey ")
	if !ok {
		k = r.URL.Query().Get("apikey")
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(k)), []byte(s.apiKey)) == 1
}

// wantsJSON reports whether the caller asked for JSON (Accept header or
// format=json); Alma's default is XML.
func wantsJSON(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f == "json"
	}
	return strings.Contains(r.Header.Get("Accept"), "json")
}

type wsError struct {
	ErrorCode    string `json:"errorCode" xml:"errorCode"`
	ErrorMessage string `json:"errorMessage" xml:"errorMessage"`
	TrackingID   string `json:"trackingId,omitempty" xml:"trackingId,omitempty"`
}

type wsResultJSON struct {
	ErrorsExist bool `json:"errorsExist"`
	ErrorList   struct {
		Error []wsError `json:"error"`
	} `json:"errorList"`
	Result any `json:"result"`
}

type wsResultXML struct {
	XMLName     xml.Name  `xml:"http://com/exlibris/urm/general/xmlbeans web_service_result"`
	ErrorsExist bool      `xml:"errorsExist"`
	Errors      []wsError `xml:"errorList>error"`
}

// writeError answers with Alma's web_service_result, in JSON or XML as
// the caller asked.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	we := wsError{ErrorCode: e.Code, ErrorMessage: e.Message}
	if e.Code != CodeUnauthorized { // refused at Alma's gateway, untracked
		s.fmu.Lock()
		s.errN++
		n := s.errN
		s.fmu.Unlock()
		we.TrackingID = fmt.Sprintf("E01-%s-%05s-AWAE%010d", s.clock.Now().UTC().Format("0201150405"),
			strings.ToUpper(strconv.FormatInt(int64(n)*7919%60466176, 36)), n)
	}
	if wantsJSON(r) {
		var v wsResultJSON
		v.ErrorsExist = true
		v.ErrorList.Error = []wsError{we}
		writeJSON(w, e.Status, v)
		return
	}
	body, err := xml.Marshal(wsResultXML{ErrorsExist: true, Errors: []wsError{we}})
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
	w.WriteHeader(e.Status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n")
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}

// okJSON writes a success body, or refuses with 406 when the caller did
// not ask for JSON: Alma would have answered XML, which the fake does not
// write for objects.
func (s *Server) okJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if !wantsJSON(r) {
		return errXMLBody()
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func errXMLBody() *Error {
	return errorf(http.StatusNotAcceptable, CodeGeneralError,
		"the fake Alma answers JSON only: send Accept: application/json or format=json")
}

// jsonAmount writes an amount as Alma's JSON does: a number with at least
// one decimal place ("5.0", "12.5", "0.82").
func jsonAmount(m fees.Money) json.Number {
	t := m.Decimal().String()
	if !strings.Contains(t, ".") {
		t += ".0"
	}
	return json.Number(t)
}

func almaTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

type valueLink struct {
	Value string `json:"value"`
	Link  string `json:"link,omitempty"`
}

type txnJSON struct {
	TransactionID string      `json:"transaction_id"`
	Type          codeDesc    `json:"type"`
	Amount        json.Number `json:"amount"`
	VATAmount     json.Number `json:"vat_amount"`
	Reason        *codeDesc   `json:"reason,omitempty"`
	Comment       string      `json:"comment,omitempty"`
	ExternalID    string      `json:"external_transaction_id,omitempty"`
	CreatedBy     string      `json:"created_by"`
	Time          string      `json:"transaction_time"`
	PaymentMethod *codeDesc   `json:"payment_method,omitempty"`
}

type feeJSON struct {
	ID                  string      `json:"id"`
	Type                codeDesc    `json:"type"`
	Status              codeDesc    `json:"status"`
	UserPrimaryID       valueLink   `json:"user_primary_id"`
	Balance             json.Number `json:"balance"`
	RemainingVAT        json.Number `json:"remaining_vat_amount"`
	OriginalAmount      json.Number `json:"original_amount"`
	OriginalVAT         json.Number `json:"original_vat_amount"`
	CreationTime        string      `json:"creation_time"`
	StatusTime          string      `json:"status_time"`
	Comment             string      `json:"comment,omitempty"`
	Owner               codeDesc    `json:"owner"`
	Title               string      `json:"title,omitempty"`
	Barcode             *valueLink  `json:"barcode,omitempty"`
	Transaction         []txnJSON   `json:"transaction,omitempty"`
	BursarTransactionID string      `json:"bursar_transaction_id,omitempty"`
	Link                string      `json:"link"`
}

var txnDescs = map[string]string{"PAYMENT": "Payment", "WAIVE": "Waive", "DISPUTE": "Dispute", "RESTORE": "Restore", "REFUND": "Refund"}

var methodDescs = map[string]string{"CASH": "Cash", "CREDIT_CARD": "Credit card", "ONLINE": "Online", "BURSAR": "Payment imported"}

func (s *Server) feeJSONLocked(r *feeRec) feeJSON {
	f := &r.f
	zero := jsonAmount(fees.Zero(f.Original.Currency()))
	j := feeJSON{
		ID:                  f.ID,
		Type:                codeDesc{Value: string(f.Type), Desc: f.Type.Description()},
		Status:              codeDesc{Value: f.Status.AlmaCode(), Desc: f.Status.String()},
		UserPrimaryID:       valueLink{Value: f.UserID, Link: s.URL() + "/users/" + f.UserID},
		Balance:             jsonAmount(f.Balance),
		RemainingVAT:        zero,
		OriginalAmount:      jsonAmount(f.Original),
		OriginalVAT:         zero,
		CreationTime:        almaTime(f.Created),
		StatusTime:          almaTime(f.Updated),
		Comment:             f.Comment,
		Owner:               codeDesc{Value: f.Owner, Desc: f.Owner},
		Title:               f.Item.Title,
		BursarTransactionID: f.TransactionID,
		Link:                s.URL() + "/users/" + f.UserID + "/fees/" + f.ID,
	}
	if f.Item.Barcode != "" {
		j.Barcode = &valueLink{Value: f.Item.Barcode}
		if it, ok := s.items[f.Item.Barcode]; ok {
			j.Barcode.Link = s.URL() + "/bibs/" + it.MMSID + "/holdings/" + it.HoldingID + "/items/" + it.PID
		}
	}
	for _, t := range r.txns {
		tj := txnJSON{
			TransactionID: t.ID, Type: codeDesc{Value: t.Type, Desc: txnDescs[t.Type]},
			Amount: jsonAmount(t.Amount), VATAmount: zero, Comment: t.Comment,
			ExternalID: t.ExternalID, CreatedBy: t.CreatedBy, Time: almaTime(t.Time),
		}
		if t.Reason != "" {
			tj.Reason = &codeDesc{Value: t.Reason, Desc: t.Reason}
		}
		if t.Method != "" {
			tj.PaymentMethod = &codeDesc{Value: t.Method, Desc: methodDescs[t.Method]}
		}
		j.Transaction = append(j.Transaction, tj)
	}
	return j
}

type feesJSON struct {
	Fee              []feeJSON   `json:"fee,omitempty"`
	TotalRecordCount int         `json:"total_record_count"`
	TotalSum         json.Number `json:"total_sum"`
	Currency         string      `json:"currency"`
}

func (s *Server) getFees(w http.ResponseWriter, r *http.Request) error {
	userID := r.PathValue("user_id")
	status := fees.StatusActive
	if q := r.URL.Query().Get("status"); q != "" {
		st, err := fees.ParseAlmaStatus(q)
		if err != nil || q == "TRANSFERRED" {
			return errParam("status %q: must be ACTIVE, INDISPUTE, EXPORTED or CLOSED", q)
		}
		status = st
	}
	s.mu.Lock()
	if _, ok := s.users[userID]; !ok {
		s.mu.Unlock()
		return errIdentifierNotFound(userID)
	}
	out := feesJSON{Currency: string(s.opts.Currency)}
	total := fees.Zero(s.opts.Currency)
	for _, fr := range s.userFees[userID] {
		if fr.f.Status != status {
			continue
		}
		out.Fee = append(out.Fee, s.feeJSONLocked(fr))
		total, _ = total.Add(fr.f.Balance)
	}
	s.mu.Unlock()
	out.TotalRecordCount, out.TotalSum = len(out.Fee), jsonAmount(total)
	return s.okJSON(w, r, out)
}

func (s *Server) getFee(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	fr, err := s.userFeeLocked(r.PathValue("user_id"), r.PathValue("fee_id"))
	if err != nil {
		s.mu.Unlock()
		return err
	}
	j := s.feeJSONLocked(fr)
	s.mu.Unlock()
	return s.okJSON(w, r, j)
}

// feeAction is POST users/{user_id}/fees/{fee_id}?op=pay|waive|dispute|restore.
func (s *Server) feeAction(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	op := q.Get("op")
	s.mu.Lock()
	defer s.mu.Unlock()
	fr, aerr := s.userFeeLocked(r.PathValue("user_id"), r.PathValue("fee_id"))
	if aerr != nil {
		return aerr
	}
	amount := fees.Money{} // the whole balance
	if a := q.Get("amount"); a != "" && a != "ALL" {
		m, err := fees.ParseMoney(a, s.opts.Currency)
		if err != nil {
			return errParam("amount %q: %v", a, err)
		}
		amount = m
	}
	var err error
	switch op {
	case "pay":
		if q.Get("method") == "" {
			return errParam("method is mandatory for op=pay")
		}
		err = s.payLocked(fr, amount, q.Get("method"), q.Get("comment"), q.Get("external_transaction_id"))
	case "waive":
		err = s.waiveLocked(fr, amount, q.Get("reason"), q.Get("comment"))
	case "dispute":
		err = s.disputeLocked(fr, q.Get("reason"), q.Get("comment"))
	case "restore":
		err = s.restoreLocked(fr, q.Get("comment"))
	default:
		return errParam("op %q: must be pay, waive, dispute or restore", op)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.feeJSONLocked(fr))
	return nil
}

// createFee is POST users/{user_id}/fees with a fee object.
func (s *Server) createFee(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Type           codeDesc    `json:"type"`
		OriginalAmount json.Number `json:"original_amount"`
		Comment        string      `json:"comment"`
		Owner          codeDesc    `json:"owner"`
		Barcode        valueLink   `json:"barcode"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.OriginalAmount == "" {
		return errorf(http.StatusBadRequest, "4019994", "User fine/fee original amount is required.")
	}
	amount, err := fees.ParseMoney(in.OriginalAmount.String(), s.opts.Currency)
	if err != nil {
		return errParam("original_amount %q: %v", in.OriginalAmount, err)
	}
	f, err := s.AddFee(r.PathValue("user_id"), FeeSpec{
		Type: fees.Type(in.Type.Value), Amount: amount, Barcode: in.Barcode.Value,
		Comment: in.Comment, Owner: in.Owner.Value,
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	j := s.feeJSONLocked(s.feeByID[f.ID])
	s.mu.Unlock()
	return s.okJSON(w, r, j)
}

func readJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
		return errParam("the fake Alma takes JSON bodies only (Content-Type %q)", ct)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return errParam("reading the body: %v", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errParam("the body is not a valid object: %v", err)
	}
	return nil
}

type blockJSON struct {
	BlockType        codeDesc `json:"block_type"`
	BlockDescription codeDesc `json:"block_description"`
	BlockStatus      string   `json:"block_status"`
	BlockNote        string   `json:"block_note,omitempty"`
	CreatedBy        string   `json:"created_by,omitempty"`
	CreatedDate      string   `json:"created_date,omitempty"`
	ExpiryDate       string   `json:"expiry_date,omitempty"`
	SegmentType      string   `json:"segment_type,omitempty"`
}

type emailJSON struct {
	EmailAddress string     `json:"email_address"`
	Preferred    bool       `json:"preferred"`
	EmailType    []codeDesc `json:"email_type"`
}

type userJSON struct {
	RecordType  codeDesc `json:"record_type"`
	PrimaryID   string   `json:"primary_id"`
	FirstName   string   `json:"first_name"`
	LastName    string   `json:"last_name"`
	FullName    string   `json:"full_name"`
	UserGroup   codeDesc `json:"user_group"`
	Status      codeDesc `json:"status"`
	AccountType codeDesc `json:"account_type"`
	ContactInfo *struct {
		Email []emailJSON `json:"email"`
	} `json:"contact_info,omitempty"`
	UserBlock []blockJSON `json:"user_block,omitempty"`
	Fees      *struct {
		Value    json.Number `json:"value"`
		Currency string      `json:"currency"`
	} `json:"fees,omitempty"`
	Loans *struct {
		Value int `json:"value"`
	} `json:"loans,omitempty"`
	Link string `json:"link"`
}

func (s *Server) userJSONLocked(u *userRec, expand string) userJSON {
	j := userJSON{
		RecordType:  codeDesc{Value: "PUBLIC", Desc: "Public"},
		PrimaryID:   u.u.ID,
		FirstName:   u.u.FirstName,
		LastName:    u.u.LastName,
		FullName:    u.u.FullName(),
		UserGroup:   codeDesc{Value: u.u.Group, Desc: u.u.Group},
		Status:      codeDesc{Value: "ACTIVE", Desc: "Active"},
		AccountType: codeDesc{Value: "EXTERNAL", Desc: "External"},
		Link:        s.URL() + "/users/" + u.u.ID,
	}
	if u.u.Email != "" {
		j.ContactInfo = &struct {
			Email []emailJSON `json:"email"`
		}{Email: []emailJSON{{EmailAddress: u.u.Email, Preferred: true, EmailType: []codeDesc{{Value: "school", Desc: "School"}}}}}
	}
	for _, b := range u.blocks {
		j.UserBlock = append(j.UserBlock, blockJSON{
			BlockType:        codeDesc{Value: b.Type, Desc: b.Type},
			BlockDescription: codeDesc{Value: b.Code, Desc: b.Description},
			BlockStatus:      b.Status,
			BlockNote:        b.Note,
			CreatedBy:        "almatest",
			CreatedDate:      almaTime(b.Created),
			ExpiryDate:       almaTime(b.Expiry),
			SegmentType:      "Internal",
		})
	}
	for _, e := range strings.Split(expand, ",") {
		switch strings.TrimSpace(e) {
		case "fees":
			total := fees.Zero(s.opts.Currency)
			for _, id := range s.feeOrder {
				if fr := s.feeByID[id]; fr.f.UserID == u.u.ID && fr.f.Status != fees.StatusClosed {
					total, _ = total.Add(fr.f.Balance)
				}
			}
			j.Fees = &struct {
				Value    json.Number `json:"value"`
				Currency string      `json:"currency"`
			}{jsonAmount(total), string(s.opts.Currency)}
		case "loans":
			n := 0
			for _, id := range s.loanOrder {
				if l := s.loans[id]; l.UserID == u.u.ID && l.Status == "ACTIVE" {
					n++
				}
			}
			j.Loans = &struct {
				Value int `json:"value"`
			}{n}
		}
	}
	return j
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("user_id")
	s.mu.Lock()
	u, ok := s.users[id]
	if !ok {
		s.mu.Unlock()
		return errUserNotFound(id)
	}
	j := s.userJSONLocked(u, r.URL.Query().Get("expand"))
	s.mu.Unlock()
	return s.okJSON(w, r, j)
}

// putUser replaces the user's names and blocks with those of the body.
// Like Alma's PUT, it replaces: a body without user_block clears the
// blocks.
func (s *Server) putUser(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("user_id")
	var in struct {
		PrimaryID string      `json:"primary_id"`
		FirstName string      `json:"first_name"`
		LastName  string      `json:"last_name"`
		UserBlock []blockJSON `json:"user_block"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	var blocks []Block
	for i, b := range in.UserBlock {
		if b.BlockDescription.Value == "" {
			return errParam("user_block[%d] has no block_description", i)
		}
		blk := Block{
			Type: b.BlockType.Value, Code: b.BlockDescription.Value, Description: b.BlockDescription.Desc,
			Status: b.BlockStatus, Note: b.BlockNote,
		}
		if blk.Status == "" {
			blk.Status = "ACTIVE"
		}
		var err error
		if blk.Created, err = parseAlmaTime(b.CreatedDate); err != nil {
			return errParam("user_block[%d] created_date: %v", i, err)
		}
		if blk.Expiry, err = parseAlmaTime(b.ExpiryDate); err != nil {
			return errParam("user_block[%d] expiry_date: %v", i, err)
		}
		blocks = append(blocks, blk)
	}
	s.mu.Lock()
	u, ok := s.users[id]
	if !ok {
		s.mu.Unlock()
		return errUserNotFound(id)
	}
	if in.PrimaryID != "" && in.PrimaryID != id {
		s.mu.Unlock()
		return errParam("primary_id %q does not match the user %q of the path", in.PrimaryID, id)
	}
	if in.FirstName != "" {
		u.u.FirstName = in.FirstName
	}
	if in.LastName != "" {
		u.u.LastName = in.LastName
	}
	u.blocks = blocks
	j := s.userJSONLocked(u, "")
	s.mu.Unlock()
	return s.okJSON(w, r, j)
}

func parseAlmaTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02Z", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date", v)
}

type loanJSON struct {
	LoanID         string    `json:"loan_id"`
	CircDesk       codeDesc  `json:"circ_desk"`
	ReturnCircDesk *codeDesc `json:"return_circ_desk,omitempty"`
	Library        codeDesc  `json:"library"`
	UserID         string    `json:"user_id"`
	ItemBarcode    string    `json:"item_barcode"`
	DueDate        string    `json:"due_date"`
	LoanStatus     string    `json:"loan_status"`
	LoanDate       string    `json:"loan_date"`
	ReturnDate     string    `json:"return_date,omitempty"`
	ProcessStatus  string    `json:"process_status"`
	MMSID          string    `json:"mms_id"`
	HoldingID      string    `json:"holding_id"`
	ItemID         string    `json:"item_id"`
	Title          string    `json:"title"`
	Author         string    `json:"author,omitempty"`
	CallNumber     string    `json:"call_number,omitempty"`
	LocationCode   nameValue `json:"location_code"`
	Link           string    `json:"link"`
}

func (s *Server) loanJSONLocked(l *Loan) loanJSON {
	it := s.items[l.Barcode]
	j := loanJSON{
		LoanID: l.ID, CircDesk: codeDesc{Value: "DEFAULT_CIRC_DESK", Desc: "Circulation Desk"},
		Library: codeDesc{Value: it.Library, Desc: it.Library}, UserID: l.UserID, ItemBarcode: l.Barcode,
		DueDate: l.DueDate.UTC().Format(time.RFC3339), LoanStatus: l.Status, LoanDate: almaTime(l.LoanDate),
		ReturnDate: almaTime(l.ReturnDate), ProcessStatus: l.ProcessStatus,
		MMSID: it.MMSID, HoldingID: it.HoldingID, ItemID: it.PID, Title: it.Title, Author: it.Author,
		CallNumber: it.CallNumber, LocationCode: nameValue{Name: it.Location, Value: it.Location},
		Link: s.URL() + "/users/" + l.UserID + "/loans/" + l.ID,
	}
	if l.Status == "COMPLETE" {
		j.ReturnCircDesk = &j.CircDesk
	}
	return j
}

// getLoans lists the user's loans: loan_status Active (the default) or
// Complete, paged by limit (default 10, at most 100) and offset.
func (s *Server) getLoans(w http.ResponseWriter, r *http.Request) error {
	userID := r.PathValue("user_id")
	q := r.URL.Query()
	limit, offset, err := paging(q.Get("limit"), q.Get("offset"), 10, 100)
	if err != nil {
		return err
	}
	want := "ACTIVE"
	switch st := q.Get("loan_status"); strings.ToUpper(st) {
	case "", "ACTIVE":
	case "COMPLETE":
		want = "COMPLETE"
	default:
		return errParam("loan_status %q: must be Active or Complete", st)
	}
	s.mu.Lock()
	if _, ok := s.users[userID]; !ok {
		s.mu.Unlock()
		return errIdentifierNotFound(userID)
	}
	var all []*Loan
	for _, id := range s.loanOrder {
		if l := s.loans[id]; l.UserID == userID && l.Status == want {
			all = append(all, l)
		}
	}
	out := struct {
		ItemLoan         []loanJSON `json:"item_loan,omitempty"`
		TotalRecordCount int        `json:"total_record_count"`
	}{TotalRecordCount: len(all)}
	for i := offset; i < len(all) && i < offset+limit; i++ {
		out.ItemLoan = append(out.ItemLoan, s.loanJSONLocked(all[i]))
	}
	s.mu.Unlock()
	return s.okJSON(w, r, out)
}

func paging(l, o string, def, most int) (limit, offset int, err error) {
	limit, offset = def, 0
	if l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 0 || limit > most {
			return 0, 0, errParam("limit %q: must be 0 to %d", l, most)
		}
	}
	if o != "" {
		if offset, err = strconv.Atoi(o); err != nil || offset < 0 {
			return 0, 0, errParam("offset %q: must be a number from 0", o)
		}
	}
	return limit, offset, nil
}

func (s *Server) getLoan(w http.ResponseWriter, r *http.Request) error {
	userID, loanID := r.PathValue("user_id"), r.PathValue("loan_id")
	s.mu.Lock()
	if _, ok := s.users[userID]; !ok {
		s.mu.Unlock()
		return errIdentifierNotFound(userID)
	}
	l, ok := s.loans[loanID]
	if !ok || l.UserID != userID {
		s.mu.Unlock()
		return errorf(http.StatusBadRequest, CodeLoanNotFound, "Loan %s not found for user %s.", loanID, userID)
	}
	j := s.loanJSONLocked(l)
	s.mu.Unlock()
	return s.okJSON(w, r, j)
}

// getItemByBarcode redirects to the item, as Alma does.
func (s *Server) getItemByBarcode(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	bc := q.Get("item_barcode")
	if bc == "" {
		return errParam("item_barcode is mandatory")
	}
	s.mu.Lock()
	it, ok := s.items[bc]
	var loc string
	if ok {
		loc = BasePath + "/bibs/" + it.MMSID + "/holdings/" + it.HoldingID + "/items/" + it.PID
	}
	s.mu.Unlock()
	if !ok {
		return errorf(http.StatusBadRequest, CodeItemNotFound, "No items found for barcode %s.", bc)
	}
	q.Del("item_barcode")
	if len(q) > 0 {
		loc += "?" + q.Encode()
	}
	http.Redirect(w, r, loc, http.StatusFound)
	return nil
}

type itemJSON struct {
	BibData struct {
		MMSID  string `json:"mms_id"`
		Title  string `json:"title"`
		Author string `json:"author,omitempty"`
	} `json:"bib_data"`
	HoldingData struct {
		HoldingID  string `json:"holding_id"`
		CallNumber string `json:"call_number,omitempty"`
	} `json:"holding_data"`
	ItemData struct {
		PID             string      `json:"pid"`
		Barcode         string      `json:"barcode"`
		BaseStatus      codeDesc    `json:"base_status"`
		ProcessType     *codeDesc   `json:"process_type,omitempty"`
		Library         codeDesc    `json:"library"`
		Location        codeDesc    `json:"location"`
		ReplacementCost json.Number `json:"replacement_cost,omitempty"`
	} `json:"item_data"`
	Link string `json:"link"`
}

var processTypeDescs = map[string]string{"LOAN": "Loan", "LOST_LOAN": "Lost"}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request) error {
	mms, hid, pid := r.PathValue("mms_id"), r.PathValue("holding_id"), r.PathValue("item_pid")
	s.mu.Lock()
	var it *Item
	for _, bc := range s.itemOrder {
		if c := s.items[bc]; c.MMSID == mms && c.HoldingID == hid && c.PID == pid {
			it = c
			break
		}
	}
	if it == nil {
		s.mu.Unlock()
		return errorf(http.StatusBadRequest, CodeItemNotFound, "No item found for %s/%s/%s.", mms, hid, pid)
	}
	var j itemJSON
	j.BibData.MMSID, j.BibData.Title, j.BibData.Author = it.MMSID, it.Title, it.Author
	j.HoldingData.HoldingID, j.HoldingData.CallNumber = it.HoldingID, it.CallNumber
	j.ItemData.PID, j.ItemData.Barcode = it.PID, it.Barcode
	j.ItemData.BaseStatus = codeDesc{Value: "1", Desc: "Item in place"}
	if it.ProcessType != "" {
		j.ItemData.BaseStatus = codeDesc{Value: "0", Desc: "Item not in place"}
		j.ItemData.ProcessType = &codeDesc{Value: it.ProcessType, Desc: processTypeDescs[it.ProcessType]}
	}
	j.ItemData.Library = codeDesc{Value: it.Library, Desc: it.Library}
	j.ItemData.Location = codeDesc{Value: it.Location, Desc: it.Location}
	if it.ReplacementCost.Valid() {
		j.ItemData.ReplacementCost = jsonAmount(it.ReplacementCost)
	}
	j.Link = s.URL() + "/bibs/" + it.MMSID + "/holdings/" + it.HoldingID + "/items/" + it.PID
	s.mu.Unlock()
	return s.okJSON(w, r, j)
}
