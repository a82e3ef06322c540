package config_test

import (
	"strings"
	"testing"

	"github.com/feebridge/feebridge/fees"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/config"
)

func TestRefundConfig(t *testing.T) {
	text := minimalConfig + `[refund_item_types]
OVERDUEFINE = "300000000011"
[refunds.LOSTITEMREPLACEMENTFEE]
policy = "refund"
ratio = 50
[refunds.LOSTITEMPROCESSFEE]
policy = "report"
[refunds.OVERDUEFINE]
policy = "refund"
`
	c, err := config.Parse(strings.NewReader(text), "f.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := c.RefundPolicies()
	want := map[fees.Type]reconcile.RefundPolicy{
		fees.TypeLostItemReplacementFee: {Action: reconcile.RefundSend, Ratio: 50},
		fees.TypeLostItemProcessFee:     {Action: reconcile.RefundReport, Ratio: 100},
		fees.TypeOverdueFine:            {Action: reconcile.RefundSend, Ratio: 100},
	}
	for typ, p := range want {
		if got[typ] != p {
			t.Errorf("policy of %s = %+v, want %+v", typ, got[typ], p)
		}
	}
	if it := c.Mapping().RefundItemTypes[fees.TypeOverdueFine]; it != "300000000011" {
		t.Errorf("refund item type of OVERDUEFINE = %q", it)
	}
}

func TestRefundConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"unknown policy", "[refunds.LOSTITEMREPLACEMENTFEE]\npolicy = \"give\"\n",
			`f.toml:9: refunds.LOSTITEMREPLACEMENTFEE.policy: "give": want "refund" or "report"`},
		{"ratio above 100", "[refunds.LOSTITEMREPLACEMENTFEE]\npolicy = \"refund\"\nratio = 120\n",
			`f.toml:10: refunds.LOSTITEMREPLACEMENTFEE.ratio: 120: want a percentage from 0 to 100`},
		{"refund with no refund item type", "[refunds.OVERDUEFINE]\npolicy = \"refund\"\n",
			`f.toml:9: refunds.OVERDUEFINE.policy: refund needs a refund item type for OVERDUEFINE in [refund_item_types]`},
		{"bad refund item type", "[refund_item_types]\nOVERDUEFINE = \"12\"\n",
			`f.toml:9: refund_item_types.OVERDUEFINE: "12" is not a 12-digit PeopleSoft item type`},
		{"refund item type of a charge", "[refund_item_types]\nOVERDUEFINE = \"300000000001\"\n",
			`f.toml:9: refund_item_types.OVERDUEFINE: "300000000001" is also the item type of OVERDUEFINE charges: a refund needs its own`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(minimalConfig+tc.text), "f.toml")
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n %v\nwant\n %s", err, tc.want)
			}
		})
	}
}
