package reposync

// Archive formats (Options.ArchiveFmt).
const (
	ArchiveZip   = "zip"
	ArchiveTarGz = "tar.gz"
)

// Defaults of a repo job's settings that Options does not default itself.
const (
	// DefaultConcurrency is the number of concurrent uploads.
	DefaultConcurrency = 16
	// MaxConcurrency bounds Options.Concurrency.
	MaxConcurrency = 256
	// DefaultKeyTemplate lays out releases under the destination.
	DefaultKeyTemplate = "{repo}/{tag}/"
	// DefaultMaxDeletePercent is the max_delete guard's default percentage.
	DefaultMaxDeletePercent = 50
)

// Modes, ArchiveFormats, DeletePolicies and SymlinkPolicies list the
// accepted values (defaults: files, zip, managed, skip).
var (
	Modes           = []string{ModeFiles, ModeArchive}
	ArchiveFormats  = []string{ArchiveZip, ArchiveTarGz}
	DeletePolicies  = []string{DeleteNone, DeleteManaged, DeleteAll}
	SymlinkPolicies = []string{SymlinksSkip, SymlinksFollow, SymlinksObject}
)

// SetError records the run's error in the summary's JSON form
// (jobs.ErrorSetter).
func (s *Summary) SetError(msg string) { s.Error = msg }
