// Package tmpfs gives tests a real small filesystem to break: a tmpfs mounted
// in a temporary folder, which a test can fill to the last byte or remount
// read-only, and which is unmounted when the test ends. Mounting needs root;
// elsewhere the test is skipped, saying why.
package tmpfs
