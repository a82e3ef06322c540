// Package config is the one way from a feebridge configuration to running
// jobs: the config type read from a TOML file, its validation, the default
// schedules, the secrets, and [Open], which opens the journal, the drops,
// the file formats and the Alma client a config names and returns the
// [reconcile.Jobs] over them.
//
// The feesync command, the sandbox and the scale tool build their jobs
// here, and so can a district that embeds feebridge in a program of its
// own: such a program only adds its flags, signals and output.
//
// # Reading a config
//
// [Load] reads a file and [Parse] any reader; both fill the defaults in
// and [Config.Validate] the result. A mistake is an *[Error] naming the
// file, the line and the dotted key:
//
//	feesync.toml:42: schedules.charges: "every day" is not a cron spec ...
//
// Relative paths in a file (the journal, layout files) are taken in the
// file's folder. A program that builds its config in code starts from
// [Default] and sets what it needs.
//
// # Secrets
//
// The Alma API key, the FTP passwords and the webhook secret are never in
// a Config: a [SecretRef] names the environment variable, or the file,
// that holds each ([Config.Secrets] lists them), and [SecretRef.Load]
// reads it into a [Secret], which prints and logs as [Redacted].
//
// # SFTP drops
//
// A drop of type "sftp" ([SFTPConfig], embedded in [DropConfig]) always
// verifies the server's host key, against known_hosts or a pinned
// host_key_sha256 (exactly one), and logs in with a private key (key_file,
// key_env as a secret, or key_agent) or a password (password_env or
// password_file; no default variable), or both. Validation reads the
// known_hosts and key files, so that check-config explains a file that
// cannot be used; [Open] and [Config.CheckOnline] log in, and their errors
// name the key that causes a refused login, an unknown or changed host key
// or a missing root.
//
// # Mail
//
// A [mail] section ([MailConfig]) turns mail on: [Open] builds the SMTP
// mailer ([Config.Mailer]; STARTTLS by default, or TLS, or none), hands it
// to the jobs, which mail the daily report (its HTML, the CSV attached),
// and returns it in [Setup.Mailer] for the alerts. The password is the
// secret mail.password: FEEBRIDGE_SMTP_PASSWORD or its _FILE. Without the
// section nothing is mailed.
//
// # Schedules
//
// [DefaultSchedules] are the jobs' cron specs unless the file sets its
// own: charges daily at 18:30 (after Alma's 18:00 export), payments
// hourly at :05, credits hourly at :35, the reconciliation at 06:30 and
// the report at 07:00, in the config's time zone.
//
// # Opening the jobs
//
// [Open] takes, besides the config, [Options] that come from the program:
// how to read the environment, the clock, the logger, dry-run, and parts
// the program brings itself (drops, an Alma client), as a simulation on a
// clock of its own does. [Setup.Close] closes what Open opened.
package config
