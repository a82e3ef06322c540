//go:build unix

// Command convertbench measures `feesync convert alma-export` against two
// Python converters on the same generated Alma export: the plain one,
// plain_convert.py (ElementTree.parse of the whole file, then a walk of
// the tree: the yardstick of issue 17), and a tuned streaming one,
// elementtree_convert.py (iterparse, each student's element cleared: the
// harder comparison). Both are beside this file; their docs say exactly
// what they do.
//
//	go run ./examples/feesync/internal/convertbench
//	go run ./examples/feesync/internal/convertbench -sizes 100000 -rounds 9
//
// For each size it writes an export of that many fees (four a student,
// amounts of 0.01 to 99.99, the reference fee types, titles of about 30
// characters), builds feesync, then runs the three converters in turn,
// -rounds times each (feesync, plain, iterparse, feesync, ...), each as a
// process of its own, and prints every run's wall and CPU time and peak
// resident set size (the child's rusage Maxrss), the medians and the
// ratio of feesync's to each Python converter's. It checks once that all
// wrote the same bytes (the Python script writes the -as-of day, midnight, in
// the header, as feesync does). Python runs at the sizes of -python-sizes
// only (a million fees take it a minute a run, and the plain converter
// gigabytes of memory). Where python3 is missing
// it says so and measures feesync alone, unless FEEBRIDGE_REQUIRE_PYTHON3
// is set: then it fails.
//
// Figures vary with what else the machine does: run it on a quiet
// machine, and name the machine with the figures.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/feebridge/feebridge/alma"
	"github.com/feebridge/feebridge/fees"
)

//go:embed plain_convert.py
var plainConverter []byte

//go:embed elementtree_convert.py
var iterparseConverter []byte

// pyConverter is a Python converter measured against feesync.
type pyConverter struct {
	name, file string // the name printed, the script's file name
	src        []byte
	role       string // what it stands for, printed with its ratio
}

// pyConverters are the Python converters, in the order they run.
var pyConverters = []pyConverter{
	{"plain", "plain_convert.py", plainConverter, "ElementTree.parse, the whole tree: issue 17's yardstick"},
	{"iterparse", "elementtree_convert.py", iterparseConverter, "iterparse + clear, streaming: the harder comparison"},
}

// asOf is the day both converters date their file with.
const asOf = "2026-03-02"

// keep keeps the files of -dir (the -keep flag).
var keep bool

// remove removes a file of the work folder, unless -keep.
func remove(path string) {
	if !keep {
		os.Remove(path)
	}
}

func main() {
	sizes := flag.String("sizes", "100000,1000000", "comma-separated numbers of fees")
	pySizes := flag.String("python-sizes", "100000", "the sizes at which the Python converter runs too")
	rounds := flag.Int("rounds", 5, "runs of each converter per size, alternately")
	dir := flag.String("dir", "", "work folder (default: a temporary folder, removed at the end)")
	flag.BoolVar(&keep, "keep", false, "keep the exports and the outputs in -dir")
	flag.Parse()
	if err := run(*sizes, *pySizes, *rounds, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "convertbench:", err)
		os.Exit(1)
	}
}

func run(sizeList, pySizeList string, rounds int, dir string) error {
	sizes, err := parseSizes(sizeList)
	if err != nil {
		return err
	}
	pySizes, err := parseSizes(pySizeList)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "convertbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	feesync := filepath.Join(dir, "feesync")
	build := exec.Command("go", "build", "-o", feesync, "github.com/feebridge/feebridge/examples/feesync")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build feesync: %w", err)
	}
	scripts := make([]string, len(pyConverters))
	for i, c := range pyConverters {
		scripts[i] = filepath.Join(dir, c.file)
		if err := os.WriteFile(scripts[i], c.src, 0o644); err != nil {
			return err
		}
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("FEEBRIDGE_REQUIRE_PYTHON3") != "" {
			return errors.New("python3 is missing and FEEBRIDGE_REQUIRE_PYTHON3 is set")
		}
		fmt.Println("python3 not found: feesync is measured alone")
		python = ""
	}
	fmt.Printf("machine: %d CPUs, %s, %s/%s, load average %s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, loadAverage())
	if python != "" {
		// The interpreter itself, not a wrapper such as pyenv's shim
		// (a shell script that costs a second a run on a loaded machine).
		exe, err := exec.Command(python, "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			return fmt.Errorf("python3: %w", err)
		}
		python = strings.TrimSpace(string(exe))
		v, _ := exec.Command(python, "--version").CombinedOutput()
		fmt.Printf("python: %s (%s)\n", strings.TrimSpace(string(v)), python)
	}
	for _, n := range sizes {
		withPython := python != "" && slices.Contains(pySizes, n)
		if err := measure(dir, feesync, python, scripts, n, rounds, withPython); err != nil {
			return err
		}
	}
	return nil
}

// measure generates an export of n fees and runs the converters on it.
func measure(dir, feesync, python string, scripts []string, n, rounds int, withPython bool) error {
	in := filepath.Join(dir, fmt.Sprintf("export-%d.xml", n))
	size, err := writeExport(in, n)
	if err != nil {
		return err
	}
	defer remove(in)
	debug.FreeOSMemory()
	fmt.Printf("\n%d fees, %.0f MB (convertbench's own RSS %.0f MB, the floor of a child's peak RSS)\n",
		n, float64(size)/1e6, float64(ownRSS())/(1<<20))
	goOut := filepath.Join(dir, fmt.Sprintf("feesync-%d.dat", n))
	defer remove(goOut)
	pyOuts := make([]string, len(pyConverters))
	for j, c := range pyConverters {
		pyOuts[j] = filepath.Join(dir, fmt.Sprintf("%s-%d.dat", c.name, n))
		defer remove(pyOuts[j])
	}
	var goRuns []result
	pyRuns := make([][]result, len(pyConverters))
	for i := range rounds {
		r, err := runChild(feesync, "convert", "alma-export", "-in", in, "-out", goOut, "-as-of", asOf)
		if err != nil {
			return fmt.Errorf("feesync: %w", err)
		}
		goRuns = append(goRuns, r)
		fmt.Printf("  round %d  feesync   %6.3f s (CPU %6.3f s) %4.0f MB", i+1, r.wall.Seconds(), r.cpu.Seconds(), r.rssMB())
		fmt.Println()
		for j, c := range pyConverters {
			if !withPython {
				break
			}
			r, err := runChild(python, scripts[j], in, pyOuts[j], asOf)
			if err != nil {
				return fmt.Errorf("python %s: %w", c.name, err)
			}
			pyRuns[j] = append(pyRuns[j], r)
			fmt.Printf("           %-9s %6.3f s (CPU %6.3f s) %4.0f MB", c.name, r.wall.Seconds(), r.cpu.Seconds(), r.rssMB())
			if i == 0 {
				if err := sameFiles(goOut, pyOuts[j]); err != nil {
					return err
				}
			}
			fmt.Println()
		}
	}
	g := median(goRuns)
	fmt.Printf("  medians  feesync   %.3f s (CPU %.3f s), peak RSS %.0f MB (the largest of the runs)\n", g.wall.Seconds(), g.cpu.Seconds(), maxRSS(goRuns))
	for j, c := range pyConverters {
		if !withPython {
			break
		}
		p := median(pyRuns[j])
		fmt.Printf("           %-9s %.3f s (CPU %.3f s), peak RSS %.0f MB\n", c.name, p.wall.Seconds(), p.cpu.Seconds(), maxRSS(pyRuns[j]))
	}
	for j, c := range pyConverters {
		if !withPython {
			break
		}
		p := median(pyRuns[j])
		fmt.Printf("  ratio of the medians, %s (%s): feesync is %.1f times as fast (wall); %.1f times less CPU\n",
			c.name, c.role, p.wall.Seconds()/g.wall.Seconds(), p.cpu.Seconds()/g.cpu.Seconds())
	}
	fmt.Printf("  load average after: %s\n", loadAverage())
	return nil
}

// result is one run of a converter: its wall time, its CPU time (user
// and system) and its peak resident size.
type result struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes
}

func (r result) rssMB() float64 { return float64(r.maxRSS) / (1 << 20) }

// runChild runs a program and returns its wall time and the peak resident
// set size the kernel reports for it.
func runChild(name string, args ...string) (result, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return result{}, fmt.Errorf("%w\n%s", err, stderr.String())
	}
	ps := cmd.ProcessState
	return result{wall: wall, cpu: ps.UserTime() + ps.SystemTime(), maxRSS: maxRSSOf(ps)}, nil
}

// maxRSSOf is the child's Maxrss in bytes (Linux reports kilobytes, the
// BSDs and macOS bytes).
func maxRSSOf(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}

// median is the median wall time and the median CPU time of rs.
func median(rs []result) result {
	return result{wall: medianOf(rs, func(r result) time.Duration { return r.wall }),
		cpu: medianOf(rs, func(r result) time.Duration { return r.cpu })}
}

func medianOf(rs []result, f func(result) time.Duration) time.Duration {
	s := make([]time.Duration, len(rs))
	for i, r := range rs {
		s[i] = f(r)
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxRSS(rs []result) float64 {
	var m int64
	for _, r := range rs {
		m = max(m, r.maxRSS)
	}
	return float64(m) / (1 << 20)
}

// sameFiles fails when the two outputs differ. It reads them a piece at
// a time: this process stays small (see ownRSS).
func sameFiles(a, b string) error {
	fa, err := os.Open(a)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return err
	}
	defer fb.Close()
	ra, rb := bufio.NewReaderSize(fa, 64<<10), bufio.NewReaderSize(fb, 64<<10)
	x, y := make([]byte, 32<<10), make([]byte, 32<<10)
	for {
		n, errA := io.ReadFull(ra, x)
		m, errB := io.ReadFull(rb, y)
		if n != m || !bytes.Equal(x[:n], y[:m]) {
			return fmt.Errorf("feesync and a Python converter wrote different files: compare %s and %s (-dir keeps them)", a, b)
		}
		if errA != nil || errB != nil {
			break
		}
	}
	fmt.Print("   (same bytes)")
	return nil
}

// ownRSS is this process's resident size in bytes, 0 if unknown. On Linux
// a child's Maxrss is never below it: the child starts in its parent's
// memory (vfork) before it execs, and the kernel counts that.
func ownRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// writeExport writes an Alma export of n fees to path and returns its
// size: four fees a student, amounts cycling through 0.01 to 99.99, the
// reference fee types.
func writeExport(path string, n int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	types := []fees.Type{fees.TypeOverdueFine, fees.TypeLostItemReplacementFee, fees.TypeLostItemProcessFee, fees.TypeDamagedItemFine}
	enc := alma.NewExportEncoder(bw, "9000000000006761", nil)
	at := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	for i := range n {
		err := enc.Encode(alma.ExportRecord{
			Patron:        alma.Patron{ID: strconv.Itoa(10000000 + i/4), IDType: "02", Name: "Student, Test"},
			Type:          types[i%len(types)],
			Amount:        fees.FromMinor(int64(i%9999+1), fees.USD),
			TransactionID: strconv.Itoa(100000000000 + i),
			Item: fees.Item{Barcode: "3908" + strconv.Itoa(1000000+i), Title: "A book of some length, volume " + strconv.Itoa(i),
				CallNumber: "QA76.73 .G6", Library: "Main Library", Location: "Stacks"},
			Owner:           "MAIN",
			LastTransaction: at,
		})
		if err != nil {
			return 0, err
		}
	}
	if err := enc.Close(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("size %q: want a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// loadAverage is the first field of /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
