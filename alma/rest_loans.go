package alma

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// loanPage is how many loans ListLoans asks for per call (Alma's maximum).
const loanPage = 100

// Loan is an Alma item loan (the item_loan object).
type Loan struct {
	ID          string // loan_id
	UserID      string
	ItemBarcode string
	ItemID      string // the item's pid
	MMSID       string
	Title       string
	// Status is loan_status, such as ACTIVE or COMPLETE.
	Status string
	// ProcessStatus is process_status, such as NORMAL, LOST or
	// CLAIMED_RETURN.
	ProcessStatus string
	LoanDate      time.Time
	DueDate       time.Time
	ReturnDate    time.Time
	Library       string // library.value
	CircDesk      string // circ_desk.value
}

type loanJSON struct {
	LoanID        flexString `json:"loan_id"`
	UserID        flexString `json:"user_id"`
	ItemBarcode   flexString `json:"item_barcode"`
	ItemID        flexString `json:"item_id"`
	MMSID         flexString `json:"mms_id"`
	Title         string     `json:"title"`
	LoanStatus    string     `json:"loan_status"`
	ProcessStatus string     `json:"process_status"`
	LoanDate      string     `json:"loan_date"`
	DueDate       string     `json:"due_date"`
	ReturnDate    string     `json:"return_date"`
	Library       codeValue  `json:"library"`
	CircDesk      codeValue  `json:"circ_desk"`
}

func (l *loanJSON) loan() (Loan, error) {
	out := Loan{
		ID: string(l.LoanID), UserID: string(l.UserID), ItemBarcode: string(l.ItemBarcode),
		ItemID: string(l.ItemID), MMSID: string(l.MMSID), Title: l.Title,
		Status: l.LoanStatus, ProcessStatus: l.ProcessStatus,
		Library: l.Library.Value, CircDesk: l.CircDesk.Value,
	}
	var err error
	for _, f := range []struct {
		name string
		text string
		t    *time.Time
	}{{"loan_date", l.LoanDate, &out.LoanDate}, {"due_date", l.DueDate, &out.DueDate}, {"return_date", l.ReturnDate, &out.ReturnDate}} {
		if *f.t, err = almaTime(f.text); err != nil {
			return Loan{}, fmt.Errorf("loan %s: %s: %w", out.ID, f.name, err)
		}
	}
	return out, nil
}

type loanList struct {
	Loans      []loanJSON `json:"item_loan"`
	TotalCount int        `json:"total_record_count"`
}

// GetLoan returns one loan of the user (GET users/{id}/loans/{loan}).
func (c *Client) GetLoan(ctx context.Context, userID, loanID string) (*Loan, error) {
	var l loanJSON
	err := c.do(ctx, &request{
		op:     "get_loan",
		method: http.MethodGet,
		path:   []string{"users", userID, "loans", loanID},
		query:  url.Values{"user_id_type": {"all_unique"}},
		out:    &l,
	})
	if err != nil {
		return nil, err
	}
	loan, err := l.loan()
	if err != nil {
		return nil, fmt.Errorf("alma: %w", err)
	}
	return &loan, nil
}

// ListLoans returns the user's loans (GET users/{id}/loans), reading
// every page of 100 until total_record_count loans are read.
func (c *Client) ListLoans(ctx context.Context, userID string) ([]Loan, error) {
	var out []Loan
	for offset := 0; ; {
		var page loanList
		err := c.do(ctx, &request{
			op:     "list_loans",
			method: http.MethodGet,
			path:   []string{"users", userID, "loans"},
			query: url.Values{
				"user_id_type": {"all_unique"},
				"limit":        {strconv.Itoa(loanPage)},
				"offset":       {strconv.Itoa(offset)},
			},
			out: &page,
		})
		if err != nil {
			return nil, err
		}
		for i := range page.Loans {
			l, err := page.Loans[i].loan()
			if err != nil {
				return nil, fmt.Errorf("alma: loans of user %s: %w", fees.MaskID(userID), err)
			}
			out = append(out, l)
		}
		offset += len(page.Loans)
		if len(page.Loans) == 0 || offset >= page.TotalCount {
			return out, nil
		}
	}
}

// Item process types that mean the item is lost.
const (
	ProcessLostLoan = "LOST_LOAN"
	ProcessLostILL  = "LOST_ILL"
)

// Item is an Alma physical item (bib_data, holding_data and item_data).
type Item struct {
	MMSID     string
	Title     string
	HoldingID string
	ID        string // item_data.pid
	Barcode   string
	// ProcessType is item_data.process_type.value, such as LOAN,
	// LOST_LOAN or MISSING; empty when the item is in place.
	ProcessType string
	// InPlace is item_data.base_status: true when the item is on the
	// shelf ("1").
	InPlace  bool
	Library  string
	Location string
}

// Lost reports whether Alma holds the item as lost.
func (it *Item) Lost() bool {
	return it.ProcessType == ProcessLostLoan || it.ProcessType == ProcessLostILL
}

type itemJSON struct {
	Bib struct {
		MMSID flexString `json:"mms_id"`
		Title string     `json:"title"`
	} `json:"bib_data"`
	Holding struct {
		ID flexString `json:"holding_id"`
	} `json:"holding_data"`
	Item struct {
		PID         flexString `json:"pid"`
		Barcode     flexString `json:"barcode"`
		ProcessType codeValue  `json:"process_type"`
		BaseStatus  codeValue  `json:"base_status"`
		Library     codeValue  `json:"library"`
		Location    codeValue  `json:"location"`
	} `json:"item_data"`
}

// GetItemByBarcode returns the item with barcode (GET
// items?item_barcode=…).
func (c *Client) GetItemByBarcode(ctx context.Context, barcode string) (*Item, error) {
	if barcode == "" {
		return nil, &Error{Method: http.MethodGet, Path: "items", Err: fmt.Errorf("empty barcode")}
	}
	var it itemJSON
	err := c.do(ctx, &request{
		op:     "get_item",
		method: http.MethodGet,
		path:   []string{"items"},
		query:  url.Values{"item_barcode": {barcode}},
		out:    &it,
	})
	if err != nil {
		return nil, err
	}
	return &Item{
		MMSID: string(it.Bib.MMSID), Title: it.Bib.Title, HoldingID: string(it.Holding.ID),
		ID: string(it.Item.PID), Barcode: string(it.Item.Barcode),
		ProcessType: it.Item.ProcessType.Value, InPlace: it.Item.BaseStatus.Value == "1",
		Library: it.Item.Library.Value, Location: it.Item.Location.Value,
	}, nil
}
