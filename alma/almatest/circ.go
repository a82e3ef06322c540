package almatest

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/feebridge/feebridge/fees"
	"github.com/shopspring/decimal"
)

const day = 24 * time.Hour

// CheckOut loans the item to the user until due and returns the loan id.
// It fails if the user or the item is unknown or the item is already on
// loan.
func (s *Server) CheckOut(userID, barcode string, due time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return "", errUserNotFound(userID)
	}
	it, ok := s.items[barcode]
	if !ok {
		return "", errorf(http.StatusBadRequest, CodeItemNotFound, "No items found for barcode %s.", barcode)
	}
	if l := s.activeLoanLocked(barcode); l != nil {
		return "", errorf(http.StatusBadRequest, CodeGeneralError, "item %s is already on loan %s", barcode, l.ID)
	}
	now := s.clock.Now()
	l := &Loan{
		ID: s.newID(kindLoan), UserID: userID, Barcode: barcode,
		LoanDate: now, DueDate: due, Status: "ACTIVE", ProcessStatus: "NORMAL", FinedUntil: due,
	}
	s.loans[l.ID] = l
	s.loanOrder = append(s.loanOrder, l.ID)
	it.ProcessType = "LOAN"
	s.queueLoanEventLocked(EventLoanCreated, l, now)
	return l.ID, nil
}

func (s *Server) activeLoanLocked(barcode string) *Loan {
	for _, id := range s.loanOrder {
		if l := s.loans[id]; l.Barcode == barcode && l.Status == "ACTIVE" {
			return l
		}
	}
	return nil
}

// DeclareLost marks an active loan lost now, as staff do from Manage
// Patron Services: the item becomes LOST_LOAN, the lost-item fees of the
// policy are assessed and the user gets a BlockLostItem block. It returns
// the fees assessed.
func (s *Server) DeclareLost(loanID string) ([]fees.Fee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.loans[loanID]
	if !ok {
		return nil, errorf(http.StatusBadRequest, CodeLoanNotFound, "Loan %s not found.", loanID)
	}
	if l.Status != "ACTIVE" || l.ProcessStatus == "LOST" {
		return nil, errorf(http.StatusBadRequest, CodeGeneralError, "loan %s is %s/%s, not an active loan that can be declared lost", loanID, l.Status, l.ProcessStatus)
	}
	return s.loseLocked(l, s.clock.Now())
}

// RunLostItemJob is Alma's daily lost-item job (16:00 in flow F1): every
// active loan overdue by at least the policy's LostAfterDays turns lost,
// with its fees and block as DeclareLost. It returns the fees assessed.
func (s *Server) RunLostItemJob() []fees.Fee {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var out []fees.Fee
	for _, id := range s.loanOrder {
		l := s.loans[id]
		if l.Status != "ACTIVE" || l.ProcessStatus == "LOST" {
			continue
		}
		if now.Before(l.DueDate.Add(time.Duration(s.policy.LostAfterDays) * day)) {
			continue
		}
		fs, _ := s.loseLocked(l, now)
		out = append(out, fs...)
	}
	return out
}

func (s *Server) loseLocked(l *Loan, now time.Time) ([]fees.Fee, error) {
	it := s.items[l.Barcode]
	l.ProcessStatus, l.LostDate = "LOST", now
	it.ProcessType = "LOST_LOAN"
	repl := s.policy.ReplacementFee
	if it.ReplacementCost.Valid() && it.ReplacementCost.IsPositive() {
		repl = it.ReplacementCost
	}
	var out []fees.Fee
	r, err := s.newFeeLocked(l.UserID, fees.TypeLostItemReplacementFee, repl, it, l.ID, "", "")
	if err != nil {
		return nil, err
	}
	out = append(out, r.f)
	if p := s.policy.ProcessFee; p.IsPositive() {
		r, err := s.newFeeLocked(l.UserID, fees.TypeLostItemProcessFee, p, it, l.ID, "", "")
		if err != nil {
			return nil, err
		}
		out = append(out, r.f)
	}
	s.queueLoanEventLocked(EventLoanLost, l, now)
	u := s.users[l.UserID]
	u.blocks = append(u.blocks, Block{
		Type: "GENERAL", Code: BlockLostItem, Description: "Lost item fee", Status: "ACTIVE",
		Note: fmt.Sprintf("Lost item %s (loan %s)", l.Barcode, l.ID), Created: now,
	})
	return out, nil
}

// Return checks the item in and returns the loan id: the loan becomes
// COMPLETE, the item goes back on the shelf (a lost item's process status
// is cleared), overdue days not yet charged are charged as an OVERDUEFINE
// (not for a lost loan), and a LOAN_RETURNED event is queued for the
// webhook (see RunDue). Lost-item fees stay as they are, as in Alma:
// waiving them is the integration's job (flow F5); what was paid on them
// is refunded by the policy's RefundRatios (R8, see refunds.go).
func (s *Server) Return(barcode string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.activeLoanLocked(barcode)
	if l == nil {
		return "", errorf(http.StatusBadRequest, CodeLoanNotFound, "No active loan for item %s.", barcode)
	}
	now := s.clock.Now()
	if l.ProcessStatus != "LOST" {
		if _, err := s.chargeOverdueLocked(l, now); err != nil {
			return "", err
		}
	}
	if l.ProcessStatus == "LOST" {
		s.refundLostLocked(l, now)
	}
	before := *l
	l.Status, l.ReturnDate, l.ProcessStatus = "COMPLETE", now, "NORMAL"
	s.items[barcode].ProcessType = ""
	s.queueLoanEventLocked(EventLoanReturned, &before, now)
	return l.ID, nil
}

// AssessOverdueFines charges every overdue loan the whole days it has
// been overdue since it was last charged, as one OVERDUEFINE per loan and
// run (for a lost loan, up to the day it turned lost). It returns the fees
// created.
func (s *Server) AssessOverdueFines() ([]fees.Fee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var out []fees.Fee
	for _, id := range s.loanOrder {
		l := s.loans[id]
		if l.Status != "ACTIVE" {
			continue
		}
		upTo := now
		if l.ProcessStatus == "LOST" {
			upTo = l.LostDate
		}
		f, err := s.chargeOverdueLocked(l, upTo)
		if err != nil {
			return out, err
		}
		if f != nil {
			out = append(out, *f)
		}
	}
	return out, nil
}

func (s *Server) chargeOverdueLocked(l *Loan, upTo time.Time) (*fees.Fee, error) {
	days := int64(upTo.Sub(l.FinedUntil) / day)
	if days <= 0 {
		return nil, nil
	}
	rate := s.opts.OverdueFinePerDay
	amount, err := fees.NewMoney(rate.Decimal().Mul(decimal.NewFromInt(days)), rate.Currency())
	if err != nil {
		return nil, err
	}
	r, err := s.newFeeLocked(l.UserID, fees.TypeOverdueFine, amount, s.items[l.Barcode], l.ID,
		fmt.Sprintf("Overdue %d day(s)", days), "")
	if err != nil {
		return nil, err
	}
	l.FinedUntil = l.FinedUntil.Add(time.Duration(days) * day)
	return &r.f, nil
}

// FeeSpec describes a fee that staff add by hand (see AddFee).
type FeeSpec struct {
	Type   fees.Type
	Amount fees.Money
	// Barcode of the item the fee is for, if any; its title, call number,
	// library and location are copied onto the fee.
	Barcode string
	Comment string
	// Owner is the owning library; empty means the item's library or
	// Options.Library.
	Owner string
	// TransactionID is the bursar transaction id to give the fee; empty
	// means a new one. Alma gives one id to fees of a user and item that
	// differ in type (see [fees.ChargeKey]); set it to build such fees.
	// A fee of the same id and type as another, or the id of another
	// user's fee, is refused.
	TransactionID string
}

// AddFee creates an Active fee for the user, as staff do in Alma.
func (s *Server) AddFee(userID string, spec FeeSpec) (fees.Fee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return fees.Fee{}, errUserNotFound(userID)
	}
	var it *Item
	if spec.Barcode != "" {
		var ok bool
		if it, ok = s.items[spec.Barcode]; !ok {
			return fees.Fee{}, errorf(http.StatusBadRequest, "4019993", "User item barcode invalid entry: %s.", spec.Barcode)
		}
	}
	if id := spec.TransactionID; id != "" {
		for _, o := range s.feeByTxn[id] {
			if o.f.UserID != userID {
				return fees.Fee{}, errParam("bursar transaction id %s is fee %s of another user", id, o.f.ID)
			}
			if o.f.Type == spec.Type {
				return fees.Fee{}, errParam("bursar transaction id %s already has a fee of type %s (fee %s)", id, spec.Type, o.f.ID)
			}
		}
	}
	r, err := s.newFeeLocked(userID, spec.Type, spec.Amount, it, "", spec.Comment, spec.Owner)
	if err != nil {
		return fees.Fee{}, err
	}
	if id := spec.TransactionID; id != "" {
		s.setTransactionIDLocked(r, id)
	}
	return r.f, nil
}

func (s *Server) newFeeLocked(userID string, typ fees.Type, amount fees.Money, it *Item, loanID, comment, owner string) (*feeRec, error) {
	if typ == "" {
		return nil, errorf(http.StatusBadRequest, "4019991", "User fine/fee type is required.")
	}
	if amount.Valid() && amount.Currency() != s.opts.Currency {
		return nil, errParam("amount %s is not in %s", amount, s.opts.Currency)
	}
	now := s.clock.Now()
	f, err := fees.NewFee(s.newID(kindFee), typ, userID, amount, now)
	if err != nil {
		return nil, fromDomain(err)
	}
	f.TransactionID = s.newID(kindBursar)
	f.Comment = comment
	f.Owner = s.opts.Library
	if it != nil {
		f.Owner = it.Library
		f.Item = fees.Item{Barcode: it.Barcode, Title: it.Title, CallNumber: it.CallNumber, Library: it.Library, Location: it.Location}
		if loanID != "" {
			f.Item.DueDate = s.loans[loanID].DueDate
		}
	}
	if owner != "" {
		f.Owner = owner
	}
	r := &feeRec{f: *f, loanID: loanID, credited: map[string]bool{}}
	s.feeByID[f.ID] = r
	s.feeByTxn[f.TransactionID] = append(s.feeByTxn[f.TransactionID], r)
	s.feeOrder = append(s.feeOrder, f.ID)
	s.userFees[f.UserID] = append(s.userFees[f.UserID], r)
	return r, nil
}

// setTransactionIDLocked gives r's fee the bursar transaction id, in place
// of the one it was made with.
func (s *Server) setTransactionIDLocked(r *feeRec, id string) {
	old := r.f.TransactionID
	s.feeByTxn[old] = slices.DeleteFunc(s.feeByTxn[old], func(o *feeRec) bool { return o == r })
	if len(s.feeByTxn[old]) == 0 {
		delete(s.feeByTxn, old)
	}
	r.f.TransactionID = id
	s.feeByTxn[id] = append(s.feeByTxn[id], r)
}

// userFeeLocked finds the user's fee, with the error forms of the fees
// calls.
func (s *Server) userFeeLocked(userID, feeID string) (*feeRec, *Error) {
	if _, ok := s.users[userID]; !ok {
		return nil, errIdentifierNotFound(userID)
	}
	r, ok := s.feeByID[feeID]
	if !ok || r.f.UserID != userID {
		return nil, errFeeNotFound(feeID)
	}
	return r, nil
}

// PayAtDesk takes a payment at the library desk on the user's fee, as
// POST users/{user_id}/fees/{fee_id}?op=pay does. A zero (invalid) amount
// means the whole balance. method is CASH, CREDIT_CARD or ONLINE.
func (s *Server) PayAtDesk(userID, feeID string, amount fees.Money, method, comment string) (fees.Fee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.userFeeLocked(userID, feeID)
	if aerr != nil {
		return fees.Fee{}, aerr
	}
	if err := s.payLocked(r, amount, method, comment, ""); err != nil {
		return fees.Fee{}, err
	}
	return r.f, nil
}

var apiMethods = map[string]fees.Method{
	"CASH":        fees.MethodCash,
	"CREDIT_CARD": fees.MethodCreditCard,
	"ONLINE":      fees.MethodCreditCard,
}

func (s *Server) payLocked(r *feeRec, amount fees.Money, method, comment, extID string) error {
	m, ok := apiMethods[method]
	if !ok {
		return errParam("method %q: must be CREDIT_CARD, ONLINE or CASH", method)
	}
	if !amount.Valid() {
		amount = r.f.Balance
	}
	transferred := r.f.Status == fees.StatusTransferred
	now := s.clock.Now()
	err := r.f.Pay(fees.Payment{
		FeeID: r.f.ID, TransactionID: r.f.TransactionID, UserID: r.f.UserID,
		Amount: amount, Channel: fees.ChannelLibrary, Method: m, Date: now,
	})
	if err != nil {
		return fromDomain(err)
	}
	r.txns = append(r.txns, Transaction{
		ID: s.newID(kindTxn), Type: "PAYMENT", Amount: amount, Method: method,
		Comment: comment, ExternalID: extID, Time: now, CreatedBy: "almatest", Transferred: transferred,
	})
	return nil
}

// Waive waives amount of the user's fee with Alma's reason code, as POST
// users/{user_id}/fees/{fee_id}?op=waive does. A zero (invalid) amount
// means the whole balance. A transferred fee may only be waived in full
// (R5); a fee not yet transferred too, unless
// Options.PartialWaiveBeforeTransfer.
func (s *Server) Waive(userID, feeID string, amount fees.Money, reason, comment string) (fees.Fee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.userFeeLocked(userID, feeID)
	if aerr != nil {
		return fees.Fee{}, aerr
	}
	if err := s.waiveLocked(r, amount, reason, comment); err != nil {
		return fees.Fee{}, err
	}
	return r.f, nil
}

func (s *Server) waiveLocked(r *feeRec, amount fees.Money, reason, comment string) error {
	if reason == "" {
		return errParam("reason is mandatory for op=waive")
	}
	if !amount.Valid() {
		amount = r.f.Balance
	}
	transferred := r.f.Status == fees.StatusTransferred
	now := s.clock.Now()
	pol := fees.Policy{PartialWaiveBeforeTransfer: s.opts.PartialWaiveBeforeTransfer}
	if err := pol.Waive(&r.f, fees.Waiver{FeeID: r.f.ID, Amount: amount, Reason: reason, Comment: comment, Date: now}); err != nil {
		return fromDomain(err)
	}
	r.txns = append(r.txns, Transaction{
		ID: s.newID(kindTxn), Type: "WAIVE", Amount: amount, Reason: reason,
		Comment: comment, Time: now, CreatedBy: "almatest", Transferred: transferred,
	})
	return nil
}

// Dispute puts the user's fee in dispute.
func (s *Server) Dispute(userID, feeID, reason, comment string) (fees.Fee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.userFeeLocked(userID, feeID)
	if aerr != nil {
		return fees.Fee{}, aerr
	}
	if err := s.disputeLocked(r, reason, comment); err != nil {
		return fees.Fee{}, err
	}
	return r.f, nil
}

func (s *Server) disputeLocked(r *feeRec, reason, comment string) error {
	now := s.clock.Now()
	if err := r.f.Dispute(now); err != nil {
		return fromDomain(err)
	}
	r.txns = append(r.txns, Transaction{ID: s.newID(kindTxn), Type: "DISPUTE", Amount: fees.Zero(s.opts.Currency),
		Reason: reason, Comment: comment, Time: now, CreatedBy: "almatest"})
	return nil
}

// Restore ends the dispute of the user's fee.
func (s *Server) Restore(userID, feeID, comment string) (fees.Fee, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, aerr := s.userFeeLocked(userID, feeID)
	if aerr != nil {
		return fees.Fee{}, aerr
	}
	if err := s.restoreLocked(r, comment); err != nil {
		return fees.Fee{}, err
	}
	return r.f, nil
}

func (s *Server) restoreLocked(r *feeRec, comment string) error {
	now := s.clock.Now()
	if err := r.f.Restore(now); err != nil {
		return fromDomain(err)
	}
	r.txns = append(r.txns, Transaction{ID: s.newID(kindTxn), Type: "RESTORE", Amount: fees.Zero(s.opts.Currency),
		Comment: comment, Time: now, CreatedBy: "almatest"})
	return nil
}

// SetBlocks replaces the user's blocks, as a PUT of the user with its
// user_block list does.
func (s *Server) SetBlocks(userID string, blocks []Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return errUserNotFound(userID)
	}
	u.blocks = append([]Block(nil), blocks...)
	return nil
}
