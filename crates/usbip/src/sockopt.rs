//! The few socket options the standard library does not set, on Linux
//! (elsewhere they report `Unsupported` and callers go on without them).

use std::io;
use std::net::TcpStream;

/// `setsockopt` with the option value `value`.
#[cfg(target_os = "linux")]
fn set_option(stream: &TcpStream, level: i32, name: i32, value: &[u8]) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: the descriptor is an open socket owned by `stream`; the
    // option value is `value`'s bytes, whose length is passed with them.
    let rc =
        unsafe { libc::setsockopt(stream.as_raw_fd(), level, name, value.as_ptr().cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets `SO_RCVLOWAT`.
#[cfg(target_os = "linux")]
pub(crate) fn set_receive_low_water(stream: &TcpStream, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    set_option(
        stream,
        libc::SOL_SOCKET,
        libc::SO_RCVLOWAT,
        &value.to_ne_bytes(),
    )
}

/// Elsewhere the mark stays at its default.
#[cfg(not(target_os = "linux"))]
pub(crate) fn set_receive_low_water(_stream: &TcpStream, _bytes: usize) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Sets the connection's congestion control (`TCP_CONGESTION`), such as
/// `cubic`.
#[cfg(target_os = "linux")]
pub(crate) fn set_congestion_control(stream: &TcpStream, name: &str) -> io::Result<()> {
    set_option(
        stream,
        libc::IPPROTO_TCP,
        libc::TCP_CONGESTION,
        name.as_bytes(),
    )
}

/// Elsewhere the system's choice stays.
#[cfg(not(target_os = "linux"))]
pub(crate) fn set_congestion_control(_stream: &TcpStream, _name: &str) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;

    fn congestion_control(stream: &TcpStream) -> String {
        let mut name = [0u8; 16];
        let mut len = name.len() as libc::socklen_t;
        // SAFETY: an open socket; `name` is writable for `len` bytes.
        let rc = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_CONGESTION,
                name.as_mut_ptr().cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        let name = &name[..len as usize];
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        String::from_utf8_lossy(&name[..end]).into_owned()
    }

    #[test]
    fn options_are_set_on_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let available =
            std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control")
                .unwrap_or_default();
        if available.split_whitespace().any(|a| a == "cubic") {
            set_congestion_control(&server, "cubic").unwrap();
            assert_eq!(congestion_control(&server), "cubic");
        } else {
            eprintln!("skipped: this kernel offers no cubic congestion control ({available})");
        }
        assert!(set_congestion_control(&server, "no-such-algorithm").is_err());
        set_receive_low_water(&client, 1 << 20).unwrap();
        set_receive_low_water(&client, 1).unwrap();
    }
}
