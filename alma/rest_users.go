package alma

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/feebridge/feebridge/fees"
)

// User is an Alma user record. The named fields are read from it; Raw
// keeps every field as Alma sent it, so that writing the user back
// ([Client.RemoveFeeBlocks]) loses nothing feebridge does not know about.
type User struct {
	PrimaryID string
	FirstName string
	LastName  string
	Blocks    []Block
	// Raw is the user object as Alma sent it.
	Raw json.RawMessage
}

// Block is one entry of a user's user_block list.
type Block struct {
	// Type is block_type.value, such as "GENERAL".
	Type string
	// Code and Description are block_description's value and desc. Codes
	// come from the institution's "User Block Descriptions" table.
	Code        string
	Description string
	// Status is block_status: ACTIVE or INACTIVE.
	Status  string
	Note    string
	Segment string // segment_type: Internal or External
	Created time.Time
	Expiry  time.Time
}

type userJSON struct {
	PrimaryID flexString  `json:"primary_id"`
	FirstName string      `json:"first_name"`
	LastName  string      `json:"last_name"`
	Blocks    []blockJSON `json:"user_block"`
}

type blockJSON struct {
	Type        codeValue `json:"block_type"`
	Description codeValue `json:"block_description"`
	Status      string    `json:"block_status"`
	Note        string    `json:"block_note"`
	Segment     string    `json:"segment_type"`
	Created     string    `json:"created_date"`
	Expiry      string    `json:"expiry_date"`
}

func (b blockJSON) block() Block {
	created, _ := almaTime(b.Created)
	expiry, _ := almaTime(b.Expiry)
	return Block{
		Type: b.Type.Value, Code: b.Description.Value, Description: b.Description.Desc,
		Status: b.Status, Note: b.Note, Segment: b.Segment, Created: created, Expiry: expiry,
	}
}

// feeBlockCodes are block description codes that name fines and fees.
var feeBlockCodes = map[string]bool{
	"FINE": true, "FINES": true, "FEE": true, "FEES": true,
	"FINES_FEES": true, "LOST_ITEM_FEE": true, "BURSAR": true,
}

// DefaultFeeBlock is the predicate [Client.RemoveFeeBlocks] uses when
// given none: a block whose description code is one of FINE, FINES, FEE,
// FEES, FINES_FEES, LOST_ITEM_FEE or BURSAR, or whose description text
// speaks of a fine or a fee. Block codes are set per institution, so a
// district whose table differs passes its own predicate.
func DefaultFeeBlock(b Block) bool {
	if feeBlockCodes[strings.ToUpper(b.Code)] {
		return true
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(b.Description), func(r rune) bool {
		return !('a' <= r && r <= 'z')
	}) {
		switch w {
		case "fine", "fines", "fee", "fees":
			return true
		}
	}
	return false
}

func (c *Client) getUserRaw(ctx context.Context, userID string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.do(ctx, &request{
		op:     "get_user",
		method: http.MethodGet,
		path:   []string{"users", userID},
		query:  url.Values{"user_id_type": {"all_unique"}, "view": {"full"}, "expand": {"none"}},
		out:    &raw,
	})
	return raw, err
}

func decodeUser(raw json.RawMessage) (*User, error) {
	var u userJSON
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, err
	}
	out := &User{PrimaryID: string(u.PrimaryID), FirstName: u.FirstName, LastName: u.LastName, Raw: raw}
	for _, b := range u.Blocks {
		out.Blocks = append(out.Blocks, b.block())
	}
	return out, nil
}

// GetUser returns the user record (GET users/{id}).
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	raw, err := c.getUserRaw(ctx, userID)
	if err != nil {
		return nil, err
	}
	u, err := decodeUser(raw)
	if err != nil {
		return nil, fmt.Errorf("alma: user %s: %w", fees.MaskID(userID), err)
	}
	return u, nil
}

// RemoveFeeBlocks removes the user's blocks for which isFeeBlock reports
// true (nil means [DefaultFeeBlock]) and returns them. It reads the user,
// drops those entries from user_block and writes the user back (PUT
// users/{id}) with every other field exactly as read. If no block
// matches, nothing is written.
func (c *Client) RemoveFeeBlocks(ctx context.Context, userID string, isFeeBlock func(Block) bool) (removed []Block, err error) {
	if isFeeBlock == nil {
		isFeeBlock = DefaultFeeBlock
	}
	raw, err := c.getUserRaw(ctx, userID)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("alma: user %s: %w", fees.MaskID(userID), err)
	}
	var blocks []json.RawMessage
	if b, ok := fields["user_block"]; ok && string(b) != "null" {
		if err := json.Unmarshal(b, &blocks); err != nil {
			return nil, fmt.Errorf("alma: user %s: user_block: %w", fees.MaskID(userID), err)
		}
	}
	kept := make([]json.RawMessage, 0, len(blocks))
	for _, b := range blocks {
		var bj blockJSON
		if err := json.Unmarshal(b, &bj); err != nil {
			return nil, fmt.Errorf("alma: user %s: user_block: %w", fees.MaskID(userID), err)
		}
		if blk := bj.block(); isFeeBlock(blk) {
			removed = append(removed, blk)
			continue
		}
		kept = append(kept, b)
	}
	if len(removed) == 0 {
		return nil, nil
	}
	fields["user_block"], err = json.Marshal(kept)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	err = c.do(ctx, &request{
		op:     "update_user",
		method: http.MethodPut,
		path:   []string{"users", userID},
		query:  url.Values{"user_id_type": {"all_unique"}, "send_pin_number_letter": {"false"}},
		body:   body,
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}
