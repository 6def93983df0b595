//! The image directory: where SPAWN looks up images by name, and nowhere else.

use std::path::{Path, PathBuf};

use virtio_pipe_protocol::Errno;

/// A directory of bootable images.
#[derive(Debug, Clone)]
pub struct ImageDir {
    root: PathBuf,
}

impl ImageDir {
    /// The directory `root` (made absolute and resolved).
    pub fn new(root: &Path) -> std::io::Result<Self> {
        Ok(Self {
            root: root.canonicalize()?,
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The image called `name`: a plain file name that names a regular
    /// file inside the directory. Names with `/`, `.`, `..`, NUL or nothing
    /// are `EINVAL`; missing images, and links that lead out of the
    /// directory, are `ENOENT`; a name inside the directory that is not a
    /// regular file (a directory, a device) is `ENOEXEC`.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, Errno> {
        if name.is_empty()
            || name == "."
            || name == ".."
            || name.contains('/')
            || name.contains('\0')
        {
            return Err(Errno::Einval);
        }
        let path = self
            .root
            .join(name)
            .canonicalize()
            .map_err(|_| Errno::Enoent)?;
        if !path.starts_with(&self.root) {
            return Err(Errno::Enoent);
        }
        if !path.is_file() {
            return Err(Errno::Enoexec);
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn dir(tag: &str) -> (PathBuf, ImageDir) {
        let d = std::env::temp_dir().join(format!("vup-images-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("sub")).unwrap();
        fs::write(d.join("worker"), b"elf").unwrap();
        let images = ImageDir::new(&d).unwrap();
        (d, images)
    }

    #[test]
    fn plain_name_resolves_inside_the_directory() {
        let (d, images) = dir("plain");
        assert_eq!(
            images.resolve("worker").unwrap(),
            d.canonicalize().unwrap().join("worker")
        );
    }

    #[test]
    fn names_that_could_escape_are_einval() {
        let (_d, images) = dir("escape");
        for bad in [
            "",
            ".",
            "..",
            "../etc/passwd",
            "/etc/passwd",
            "sub/worker",
            "a\0b",
        ] {
            assert_eq!(images.resolve(bad), Err(Errno::Einval), "{bad:?}");
        }
    }

    #[test]
    fn missing_image_is_enoent() {
        let (_d, images) = dir("missing");
        assert_eq!(images.resolve("nope"), Err(Errno::Enoent));
    }

    #[test]
    fn a_directory_is_not_an_image() {
        let (_d, images) = dir("subdir");
        assert_eq!(images.resolve("sub"), Err(Errno::Enoexec));
    }

    #[test]
    fn symlink_leading_out_is_enoent() {
        let (d, images) = dir("link");
        std::os::unix::fs::symlink("/etc/hostname", d.join("evil")).unwrap();
        assert_eq!(images.resolve("evil"), Err(Errno::Enoent));
    }
}
