package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// A small week, run in-process as the tests do: five students over two
// days. The output ends with the reconciliation.
func Example() {
	var out bytes.Buffer
	s := &Sandbox{Students: 5, Days: 2, Seed: 1, Stdout: &out}
	err := s.Run(context.Background())
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	text := out.String()
	i := strings.Index(text, "Alma and PeopleSoft agree to the cent for all")
	fmt.Println(strings.SplitN(text[i:], ";", 2)[0])
	// Output:
	// Alma and PeopleSoft agree to the cent for all 3 students (7 fees charged)
}
