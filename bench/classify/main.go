// Command classify-bench measures ghsync's log classifier on a real-looking
// GitHub Actions log (timestamps, ANSI colours, build and test output, shell
// traces, a failure near the end) against a 100-rule ruleset, side by side
// with `grep -E -n -f` over the same patterns as the floor.
//
//	go run ./bench/classify                 # 50 MB log, 100 rules, best of 3
//	go run ./bench/classify -mb 200 -runs 5
//
// The patterns are POSIX ERE-compatible so that grep runs the very same set;
// grep only reports matching lines, while the classifier also normalises
// every line (timestamp, ANSI), drops boilerplate lines, tracks the ignored
// region, picks the winner and collects context, so the ratio is a floor.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/webhooks/classify"
)

func main() {
	mb := flag.Int("mb", 50, "size of each log in MB")
	runs := flag.Int("runs", 3, "runs of each tool on each log, interleaved; the best is reported")
	keep := flag.String("keep", "", "write the logs and rules into this directory and keep them")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the ghsync runs to this file")
	flag.Parse()
	dir := *keep
	if dir == "" {
		var err error
		dir, err = os.MkdirTemp("", "classify-bench")
		check(err)
		defer os.RemoveAll(dir)
	}
	rules := makeRules()
	patPath := filepath.Join(dir, "patterns.txt")
	tomlPath := filepath.Join(dir, "ruleset.toml")
	check(os.WriteFile(patPath, []byte(strings.Join(rules, "\n")+"\n"), 0o644))
	var toml bytes.Buffer
	for i, r := range rules {
		fmt.Fprintf(&toml, "[[rule]]\nname = \"rule %03d\"\npattern = '''%s'''\n\n", i, r)
	}
	check(os.WriteFile(tomlPath, toml.Bytes(), 0o644))
	rs, err := classify.LoadRuleset(tomlPath)
	check(err)
	c, err := classify.New(rs, classify.Options{})
	check(err)

	logs := []struct{ name, path string }{
		{"actions (timestamped, ANSI, ~100-byte lines)", filepath.Join(dir, "job.log")},
		{"pytorch (no timestamps, 100-450 KB \"Running N items\" lines)", filepath.Join(dir, "pytorch.log")},
	}
	check(os.WriteFile(logs[0].path, makeLog(*mb<<20), 0o644))
	check(os.WriteFile(logs[1].path, makePyTorchLog(*mb<<20), 0o644))
	fmt.Printf("ruleset: %d rules (POSIX ERE); %d interleaved runs per tool per log, best reported\n", len(rules), *runs)
	fmt.Printf("rerun: flock /tmp/measure.lock go run ./bench/classify -mb %d -runs %d\n\n", *mb, *runs)
	if *profile != "" {
		pf, err := os.Create(*profile)
		check(err)
		check(pprof.StartCPUProfile(pf))
		defer pprof.StopCPUProfile()
	}
	for _, l := range logs {
		data, err := os.ReadFile(l.path)
		check(err)
		size := float64(len(data)) / 1e6
		longest := 0
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			longest = max(longest, len(line))
		}
		ghsBest, grepBest := time.Duration(1<<62), time.Duration(1<<62)
		var m *classify.Match
		var grepLines int
		for i := 0; i < *runs; i++ {
			start := time.Now()
			f, err := os.Open(l.path)
			check(err)
			m, err = c.ClassifyReader(f)
			check(err)
			f.Close()
			ghsBest = min(ghsBest, time.Since(start))

			start = time.Now()
			out, err := exec.Command("grep", "-E", "-n", "-f", patPath, l.path).Output()
			if err != nil {
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
					check(fmt.Errorf("grep: %w", err))
				}
			}
			grepBest = min(grepBest, time.Since(start))
			grepLines = bytes.Count(out, []byte{'\n'})
		}
		ghs, gr := size/ghsBest.Seconds(), size/grepBest.Seconds()
		res := "no match"
		if m != nil {
			res = fmt.Sprintf("%s at line %d", m.Rule, m.LineNum)
		}
		fmt.Printf("log %s: %.1f MB, %d lines, longest %d bytes\n", l.name, size, bytes.Count(data, []byte{'\n'}), longest)
		fmt.Printf("  ghsync classify (streaming from file): best %-8v %7.1f MB/s  → %s\n", ghsBest.Round(time.Millisecond), ghs, res)
		fmt.Printf("  grep -E -n -f (same patterns):         best %-8v %7.1f MB/s  (%d matching lines)\n", grepBest.Round(time.Millisecond), gr, grepLines)
		fmt.Printf("  ratio ghsync/grep: %.2f\n\n", ghs/gr)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "classify-bench:", err)
		os.Exit(1)
	}
}

// makeRules returns 100 ERE patterns shaped like a real ruleset: specific
// failures first, generic ones last; most carry a literal, some do not.
func makeRules() []string {
	var r []string
	fixed := []string{
		`^##\[error\]The job running on runner .* has exceeded the maximum execution time of [0-9]+ minutes`,
		`The runner has received a shutdown signal`,
		`torch\.OutOfMemoryError: CUDA out of memory`,
		`Killed signal terminated program`,
		`^([^ ]+\.(c|cc|cpp|cu|h|hpp)):([0-9]+):([0-9]+:)? (fatal )?error: (.*)$`,
		`undefined reference to`,
		`collect2: error: ld returned [0-9]+ exit status`,
		`^FAILED ([^ ]+::[^ ]+)`,
		`^(FAIL|ERROR): ([A-Za-z_]+) \(([A-Za-z_.]+)\)`,
		`^--- FAIL: ([^ ]+)`,
		`Could not resolve host: ([^ ]+)`,
		`Connection reset by peer`,
		`ERROR: Could not find a version that satisfies the requirement ([^ ]+)`,
		`npm ERR! code (E[A-Z]+)`,
		`Segmentation fault`,
		`^panic: (.*)$`,
		`^([A-Za-z_]+(\.[A-Za-z_]+)*(Error|Exception)): (.*)$`,
	}
	r = append(r, fixed...)
	words := []string{"checkout", "artifact", "cache", "docker", "sccache", "ninja", "cmake", "pip", "conda", "rocm",
		"xla", "mps", "inductor", "dynamo", "distributed", "nccl", "gloo", "onnx", "quantization", "autograd",
		"jit", "fx", "export", "lint", "mypy", "flake8", "clang-tidy", "bazel", "gradle", "maven"}
	for i := 0; len(r) < 97; i++ {
		w := words[i%len(words)]
		switch i % 6 {
		case 0:
			r = append(r, fmt.Sprintf(`%s: (error|failure) in step [0-9]+`, w))
		case 1:
			r = append(r, fmt.Sprintf(`^%s_[a-z]+ failed after [0-9]+ retries`, w))
		case 2:
			r = append(r, fmt.Sprintf(`Error: Unable to (download|upload) %s [a-z0-9_.-]+`, w))
		case 3:
			r = append(r, fmt.Sprintf(`\[%s\] fatal: ([a-z ]+) \(code [0-9]+\)`, w))
		case 4:
			r = append(r, fmt.Sprintf(`%s timed out after [0-9]+(s|m)`, w))
		default:
			r = append(r, fmt.Sprintf(`Traceback.*%s.*line [0-9]+`, w))
		}
	}
	// A few without any literal (run on every line).
	r = append(r, `^[A-Z][a-z]+Error$`, `^[0-9]+ (passed|failed), [0-9]+ (errors|skipped)$`, `^##\[error\](.*)$`)
	return r
}

// makeLog writes about size bytes of GitHub Actions job log.
func makeLog(size int) []byte {
	rng := rand.New(rand.NewPCG(7, 11))
	var b bytes.Buffer
	b.Grow(size + 1<<20)
	w := bufio.NewWriter(&b)
	t := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	ts := func() string {
		t = t.Add(time.Duration(rng.IntN(5000)) * time.Microsecond)
		return t.Format("2006-01-02T15:04:05.0000000Z ")
	}
	n := 0
	for b.Len()+w.Buffered() < size {
		n++
		switch k := rng.IntN(100); {
		case k < 30:
			fmt.Fprintf(w, "%stest/test_%s.py::Test%s::test_case_%d \x1b[32mPASSED\x1b[0m [%3d%%]\n", ts(), word(rng), word(rng), rng.IntN(5000), rng.IntN(100))
		case k < 50:
			fmt.Fprintf(w, "%s[%d/%d] Building CXX object caffe2/CMakeFiles/torch_cpu.dir/__/aten/src/ATen/native/%s.cpp.o\n", ts(), n%9000, 9000, word(rng))
		case k < 60:
			fmt.Fprintf(w, "%s+ python -m pip install --no-cache-dir %s==%d.%d.%d\n", ts(), word(rng), rng.IntN(3), rng.IntN(20), rng.IntN(10))
		case k < 70:
			fmt.Fprintf(w, "%s/var/lib/jenkins/workspace/aten/src/ATen/native/%s.cpp:%d:%d: warning: unused variable 'x%d' [-Wunused-variable]\n", ts(), word(rng), rng.IntN(900), rng.IntN(80), rng.IntN(99))
		case k < 75:
			fmt.Fprintf(w, "%s\x1b[36;1mecho \"%s\"\x1b[0m\n", ts(), word(rng))
		case k < 80:
			fmt.Fprintf(w, "%s##[group]Run %s\n", ts(), word(rng))
		case k < 90:
			fmt.Fprintf(w, "%s  Downloading %s-%d.%d-py3-none-any.whl (%d kB)\n", ts(), word(rng), rng.IntN(9), rng.IntN(9), rng.IntN(9000))
		default:
			fmt.Fprintf(w, "%sINFO:root:%s took %d.%03d s\n", ts(), word(rng), rng.IntN(100), rng.IntN(1000))
		}
	}
	fmt.Fprintf(w, "%s+ python test/run_test.py --shard 1 2\n", ts())
	fmt.Fprintf(w, "%sFAILED test/test_nn.py::TestNN::test_conv2d_cuda - RuntimeError: expected scalar type Float\n", ts())
	fmt.Fprintf(w, "%s##[error]Process completed with exit code 1.\n", ts())
	w.Flush()
	return b.Bytes()
}

var words = []string{"linalg", "conv", "pooling", "sparse", "quantized", "autograd", "tensor", "index", "reduce", "binary",
	"unary", "cuda", "mps", "optim", "distributions", "fft", "nested", "jit", "fx", "export"}

func word(r *rand.Rand) string { return words[r.IntN(len(words))] }

// makePyTorchLog writes about size bytes shaped like PyTorch's real test
// job logs as the log API returns them: no per-line timestamps, pytest's
// "Running N items in this shard: ..." lines of 100-450 KB (one test id per
// item), between ordinary output (shell traces, pytest progress, warnings),
// and the failure near the end.
func makePyTorchLog(size int) []byte {
	rng := rand.New(rand.NewPCG(13, 17))
	var b bytes.Buffer
	b.Grow(size + 1<<20)
	w := bufio.NewWriter(&b)
	suites := []string{"TestCommonCUDA", "TestNNDeviceTypeCUDA", "TestLinalgCUDA", "TestTorchDeviceTypeCPU", "TestInductorOpInfoCUDA", "TestSparseCSRCPU"}
	dtypes := []string{"float32", "float64", "bfloat16", "float16", "int64", "complex64", "bool"}
	// OpInfo-style test kinds, "errors" and "exception" among them as in
	// PyTorch's real test ids.
	kinds := []string{"noncontiguous_samples", "errors", "out_warning", "compare_cpu", "variant_consistency_eager", "python_ref_exception", "fn_grad", "dtypes"}
	for b.Len()+w.Buffered() < size {
		// A long "Running N items" line.
		target := 100<<10 + rng.IntN(350<<10)
		var items []string
		n := 0
		for n < target {
			it := fmt.Sprintf("test/test_%s.py::%s::test_%s_%s_%s_%s", word(rng), suites[rng.IntN(len(suites))], kinds[rng.IntN(len(kinds))], word(rng), []string{"cuda", "cpu"}[rng.IntN(2)], dtypes[rng.IntN(len(dtypes))])
			items = append(items, it)
			n += len(it) + 2
		}
		fmt.Fprintf(w, "Running %d items in this shard: %s\n", len(items), strings.Join(items, ", "))
		// Ordinary output between them.
		for k := 50 + rng.IntN(400); k > 0; k-- {
			switch j := rng.IntN(10); {
			case j < 5:
				fmt.Fprintf(w, "test/test_%s.py::Test%s::test_case_%d PASSED [%d.%04ds] [%3d%%]\n", word(rng), word(rng), rng.IntN(5000), rng.IntN(3), rng.IntN(10000), rng.IntN(100))
			case j < 6:
				fmt.Fprintf(w, "+ python test/run_test.py --include test_%s --shard %d 5 --verbose\n", word(rng), rng.IntN(5)+1)
			case j < 8:
				fmt.Fprintf(w, "/opt/conda/lib/python3.10/site-packages/torch/%s.py:%d: UserWarning: %s is deprecated\n", word(rng), rng.IntN(900), word(rng))
			default:
				fmt.Fprintf(w, "Test results will be stored in test-reports/python-pytest/test_%s/test_%s-%d.xml\n", word(rng), word(rng), rng.IntN(1<<30))
			}
		}
	}
	fmt.Fprintf(w, "+ python test/run_test.py --shard 1 2\n")
	fmt.Fprintf(w, "FAILED test/test_nn.py::TestNN::test_conv2d_cuda - RuntimeError: expected scalar type Float\n")
	fmt.Fprintf(w, "##[error]Process completed with exit code 1.\n")
	w.Flush()
	return b.Bytes()
}
