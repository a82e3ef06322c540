package main

import (
	"fmt"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/peoplesoft"
	"github.com/feebridge/feebridge/reconcile"
	"github.com/feebridge/feebridge/reconcile/almaport"
	"github.com/feebridge/feebridge/reconcile/psport"
)

// adapters fills deps with the file formats: Alma's export and import,
// PeopleSoft's charge and payment files, in the configured layouts,
// mapping and time zone.
func (m *Main) adapters(deps *reconcile.Deps) error {
	c := m.config
	charges, err := c.chargeLayout()
	if err != nil {
		return err
	}
	payments, err := c.paymentLayout()
	if err != nil {
		return err
	}
	deps.Export = almaport.ExportFormat{Options: &alma.DecoderOptions{Location: c.Location()}}
	mapping := c.mapping()
	deps.Charges = psport.ChargeFormat{Mapping: mapping, Layout: charges}
	// The same mapping reads each payment's ITEM_TYPE back to the fee
	// type, so that a payment finds its charge by charge key.
	deps.Payments = psport.PaymentFormat{Layout: payments, Mapping: &mapping,
		Options: &peoplesoft.DecodeOptions{MaxBytes: c.maxPaymentFileBytes(), Currency: c.cur}}
	deps.Import = almaport.ImportFormat{Options: &alma.EncoderOptions{Location: c.Location()}}
	return nil
}

// almaAPI is the Alma REST client, as the jobs use it. It needs the API key.
func (m *Main) almaAPI() (reconcile.AlmaAPI, error) {
	c := m.config
	key, err := m.loadSecret(secretRef{key: "alma.api_key", env: c.Alma.APIKeyEnv, file: c.Alma.APIKeyFile})
	if err != nil {
		return nil, err
	}
	base := c.Alma.BaseURL
	if base == "" {
		if base, err = alma.RegionURL(c.Alma.Region); err != nil {
			return nil, fmt.Errorf("alma.region: %w", err)
		}
	} else {
		base = base + "/almaws/v1"
	}
	client, err := alma.NewClient(base, key.Reveal(), &alma.ClientOptions{
		Timeout:       c.Alma.Timeout.d(),
		RatePerSecond: float64(c.Alma.RatePerSecond),
		Currency:      c.cur,
		Logger:        m.logger,
		Now:           m.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("alma: %w", err)
	}
	return almaport.AlmaAPI{Client: client}, nil
}
