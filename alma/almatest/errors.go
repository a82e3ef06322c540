package almatest

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/feebridge/feebridge/fees"
)

// Alma error codes the fake answers with, in the errorList of a
// web_service_result. The numeric ones are those Alma's documentation
// lists for the same calls; which of them Alma picks for a given refusal
// is not always documented, and the fake's choice is noted on each.
const (
	// CodeUserNotFound: GET or PUT users/{user_id} for an unknown user
	// ("User with identifier X was not found.").
	CodeUserNotFound = "401861"
	// CodeIdentifierNotFound: an unknown user on the fees and loans calls
	// ("Identifier not found.").
	CodeIdentifierNotFound = "401651"
	// CodeFeeNotFound: an unknown fee, or a fee of another user ("Fine not
	// found.").
	CodeFeeNotFound = "401665"
	// CodeInvalidParameter: a missing or malformed parameter: an unknown
	// op, status or method, an amount that is not a positive amount in the
	// fee's currency, a waiver without a reason, a payment without a
	// method, an amount above the balance ("Parameter is not valid.").
	CodeInvalidParameter = "401666"
	// CodeGeneralError: a refusal that no parameter explains: an action on
	// a closed fee or on a fee in dispute, a partial waiver of a
	// transferred fee, and the injected 500s ("General error.").
	CodeGeneralError = "402119"
	// CodeLoanNotFound: an unknown loan id. The fake's choice.
	CodeLoanNotFound = "401822"
	// CodeItemNotFound: GET items?item_barcode= for an unknown barcode
	// ("No items found for barcode X.").
	CodeItemNotFound = "401689"
	// CodePerSecondThreshold: more calls in one second than the threshold
	// (HTTP 429).
	CodePerSecondThreshold = "PER_SECOND_THRESHOLD"
	// CodeDailyThreshold: the daily quota is spent (HTTP 429).
	CodeDailyThreshold = "DAILY_THRESHOLD"
	// CodeUnauthorized: a missing or wrong API key. Alma answers it with
	// HTTP 400 and no tracking id, and so does the fake.
	CodeUnauthorized = "UNAUTHORIZED"
	// CodeNotFound: a path the fake does not serve (HTTP 404). The fake's
	// own code.
	CodeNotFound = "NOT_FOUND"
)

// Error is a refusal by the fake, as its REST API reports it: the HTTP
// status, Alma's error code and message. Go methods of Server return the
// same errors, so a test can check what a client would have seen. Err is
// the domain error (a *fees.Error) behind it, if any.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
}

// Error describes the refusal as `alma CODE (HTTP STATUS): message`.
func (e *Error) Error() string {
	return fmt.Sprintf("alma %s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Unwrap returns the domain error.
func (e *Error) Unwrap() error { return e.Err }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errUserNotFound(id string) *Error {
	return errorf(http.StatusBadRequest, CodeUserNotFound, "User with identifier %s was not found.", id)
}

func errIdentifierNotFound(id string) *Error {
	return errorf(http.StatusBadRequest, CodeIdentifierNotFound, "Identifier not found: user %s.", id)
}

func errFeeNotFound(feeID string) *Error {
	return errorf(http.StatusBadRequest, CodeFeeNotFound, "Fine not found: %s.", feeID)
}

func errParam(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, CodeInvalidParameter, "Parameter is not valid: "+format, args...)
}

// fromDomain maps a refusal of the fees package to the fake's error.
func fromDomain(err error) *Error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	code := CodeGeneralError
	switch fees.ErrorCode(err) {
	case fees.EINVALID, fees.ECURRENCY, fees.EOVERPAY:
		code = CodeInvalidParameter
	}
	return &Error{Status: http.StatusBadRequest, Code: code, Message: err.Error(), Err: err}
}
