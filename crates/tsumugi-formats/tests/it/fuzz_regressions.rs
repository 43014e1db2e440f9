//! Inputs found by the fuzz targets of `fuzz/` (issue 3: parsers never panic), kept so CI runs
//! them. One test per finding, named `<target>_<what>`; each drives the reader the way the
//! target does and checks that it ends with diagnostics instead of a panic.

use tsumugi_formats::FolderEntries;

/// `folder`: a path length of 4 GiB in a 12-byte stream made the reader allocate the whole path
/// before reading it. Now the length is bounded and bytes are allocated as they arrive.
#[test]
fn folder_huge_path_length_is_an_error_not_an_allocation() {
    let stream = b"TSGDIR01\xff\xff\xff\xff";
    let entries: Vec<_> = FolderEntries::new(&stream[..]).unwrap().collect();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].is_err());
    // A content length within the limit but past the end of the stream: an error, too.
    let stream = b"TSGDIR01\x00\x00\x00\x01a\x00\x00\x00\x00\x03\xff\xff\xffxy";
    let entries: Vec<_> = FolderEntries::new(&stream[..]).unwrap().collect();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].is_err());
}
