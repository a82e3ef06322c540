package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// deployUnits are the systemd units of deploy/.
var deployUnits = []string{"feesync.service", "feesync-run@.service",
	"feesync-charges.timer", "feesync-payments.timer", "feesync-credits.timer", "feesync-report.timer"}

// buildStatic builds feesync into dir with the Dockerfile's command and
// returns the binary's path.
func buildStatic(t *testing.T, dir string) string {
	t.Helper()
	env, args := dockerBuild(t)
	out := filepath.Join(dir, "feesync")
	for i, a := range args {
		if a == "/out/feesync" {
			args[i] = out
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = filepath.Join("..", "..") // the module's root, as in the image
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// TestSystemdUnitsVerify: the units of deploy/ pass `systemd-analyze
// verify`, with ExecStart pointing at a feesync just built (verify wants
// the binary to exist). Skipped without systemd-analyze, unless
// FEEBRIDGE_REQUIRE_SYSTEMD_ANALYZE is set.
func TestSystemdUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("FEEBRIDGE_REQUIRE_SYSTEMD_ANALYZE") != "" {
			t.Fatalf("systemd-analyze is required (FEEBRIDGE_REQUIRE_SYSTEMD_ANALYZE): %v", err)
		}
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	bin := buildStatic(t, dir)
	var paths []string
	for _, u := range deployUnits {
		b, err := os.ReadFile(filepath.Join("deploy", u))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if strings.HasSuffix(u, ".service") && !strings.Contains(text, "ExecStart=/usr/local/bin/feesync ") {
			t.Errorf("%s: ExecStart does not run /usr/local/bin/feesync", u)
		}
		p := filepath.Join(dir, u)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "/usr/local/bin/feesync", bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...)
	out, err := cmd.CombinedOutput()
	// A warning (an option misspelt, a value not understood) is a failure
	// too: systemd ignores such lines and starts the unit without them.
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=feesync", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"PrivateTmp=yes", "EnvironmentFile=/etc/feesync/feesync.env", "serve -config /etc/feesync/feesync.toml"} {
		if b, _ := os.ReadFile(filepath.Join("deploy", "feesync.service")); !strings.Contains(string(b), want) {
			t.Errorf("feesync.service lacks %s", want)
		}
	}
}

// ciBuild is the build command CI's .ci/run and the Dockerfile both use.
const ciBuild = `CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/feesync ./examples/feesync`

// dockerBuild returns the environment and arguments of the Dockerfile's
// `RUN CGO_ENABLED=0 go build` line, after checking that it is the
// command .ci/run runs.
func dockerBuild(t *testing.T) (env, args []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("the Dockerfile has no RUN CGO_ENABLED=0 go build line")
	}
	if m[1] != ciBuild {
		t.Fatalf("the Dockerfile builds with\n\t%s\nCI with\n\t%s", m[1], ciBuild)
	}
	ci, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), strings.Replace(ciBuild, "/out/feesync", `"$static"`, 1)) {
		t.Errorf(".ci/run does not run the Dockerfile's build (%s)", ciBuild)
	}
	// Split as the shell does for this line: one variable, then words;
	// the quotes of -ldflags go.
	f := strings.Fields(strings.ReplaceAll(m[1], `"`, ""))
	ldflags := []string{}
	for i := 1; i < len(f); i++ {
		if f[i] == "-w" && strings.HasPrefix(f[i-1], "-ldflags=") {
			ldflags = append(ldflags[:len(ldflags)-1], f[i-1]+" -w")
			continue
		}
		ldflags = append(ldflags, f[i])
	}
	return []string{f[0]}, ldflags
}

// TestDockerBuildIsStatic: the Dockerfile's build command, the one CI
// runs, gives a static binary: no dynamic interpreter, no CGO.
func TestDockerBuildIsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds feesync")
	}
	bin := buildStatic(t, t.TempDir())
	f, err := elf.Open(bin)
	if err != nil {
		if runtime.GOOS != "linux" {
			t.Skip("not an ELF system")
		}
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a dynamic interpreter: not static", bin)
		}
	}
	out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "CGO_ENABLED=0") {
		t.Errorf("go version -m does not show CGO_ENABLED=0:\n%s", out)
	}
}
