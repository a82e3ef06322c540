package peoplesoft

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Bursar is a student system's built-in set: the layout of the charge
// file feebridge writes for it, the layout of the payment file it sends
// back, and the mapping of fee types to its codes and of dates to its
// terms. [BuiltinBursar] returns one by name.
type Bursar struct {
	Name     string
	Charges  *Layout
	Payments *Layout
	Mapping  Mapping
}

// The names of the built-in bursars.
const (
	// BursarPeopleSoft is PeopleSoft Campus Solutions: the reference
	// layouts and [DefaultMapping].
	BursarPeopleSoft = "peoplesoft"
	// BursarBanner is Ellucian Banner Accounts Receivable.
	BursarBanner = "banner"
	// BursarColleague is Ellucian Colleague Student Finance.
	BursarColleague = "colleague"
)

// bursarFiles holds the layouts and mappings of the built-in bursars
// other than PeopleSoft, as TOML: <name>-charges.toml, <name>-payments.toml
// and <name>-mapping.toml. Each file's comment names its sources and what
// it assumes; a district copies one to start its own layout.
//
//go:embed bursars/*.toml
var bursarFiles embed.FS

// BuiltinBursars returns the names of the built-in bursars, sorted.
func BuiltinBursars() []string {
	names := []string{BursarPeopleSoft}
	entries, _ := bursarFiles.ReadDir("bursars")
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), "-mapping.toml"); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// BuiltinBursar returns the built-in bursar called name ("peoplesoft",
// "banner" or "colleague"; see [BuiltinBursars]). Each call returns new
// layouts and a new mapping the caller may change.
func BuiltinBursar(name string) (Bursar, error) {
	if name == BursarPeopleSoft {
		return Bursar{Name: name, Charges: ReferenceChargeLayout(), Payments: ReferencePaymentLayout(), Mapping: DefaultMapping()}, nil
	}
	if !slices.Contains(BuiltinBursars(), name) {
		return Bursar{}, fmt.Errorf("peoplesoft: no built-in bursar %q (want one of %s)", name, strings.Join(BuiltinBursars(), ", "))
	}
	b := Bursar{Name: name}
	var err error
	if b.Charges, err = builtinLayout(name, KindCharges); err != nil {
		return Bursar{}, err
	}
	if b.Payments, err = builtinLayout(name, KindPayments); err != nil {
		return Bursar{}, err
	}
	if b.Mapping, err = builtinMapping(name); err != nil {
		return Bursar{}, err
	}
	return b, nil
}

// builtinLayout decodes the embedded layout of kind for bursar name.
func builtinLayout(name, kind string) (*Layout, error) {
	file := "bursars/" + name + "-" + kind + ".toml"
	data, err := bursarFiles.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("peoplesoft: %w", err)
	}
	l, err := decodeLayout(file, data)
	if err != nil {
		return nil, err
	}
	if l.Kind != kind {
		return nil, fmt.Errorf("peoplesoft: %s describes a %s file, not %s", file, l.Kind, kind)
	}
	return l, nil
}

// builtinMapping decodes and validates the embedded mapping of bursar
// name.
func builtinMapping(name string) (Mapping, error) {
	file := "bursars/" + name + "-mapping.toml"
	data, err := bursarFiles.ReadFile(file)
	if err != nil {
		return Mapping{}, fmt.Errorf("peoplesoft: %w", err)
	}
	var m Mapping
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&m)
	if err != nil {
		return Mapping{}, fmt.Errorf("peoplesoft: %s: %w", file, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Mapping{}, fmt.Errorf("peoplesoft: %s: unknown key %s", file, und[0])
	}
	if err := m.Validate(); err != nil {
		return Mapping{}, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}
