//! Calibration: the flat-field steps and defect-pixel detection. Both
//! average frames of the whole sensor under the present conditions (scene,
//! exposure, gain), with the listed defects corrected first as the image
//! pipeline does.

use std::sync::Arc;

use pixel::defect::{self, DetectParams};
use pixel::ffc::{self, FlatField};
use pixel::geometry::{PixelLayout, Roi};
use u3v::gencp::Status;

use super::{ffc_status, Core, State};
use crate::features::Value;

/// Time one calibration frame takes, for the PENDING acknowledge.
pub const FRAME_TIME_HINT: std::time::Duration = std::time::Duration::from_millis(60);

impl Core {
    /// Averages `frames` raw frames of the whole sensor, defects corrected.
    fn capture_average(&self, st: &State, frames: usize) -> Result<Vec<u16>, Status> {
        let (w, h) = (
            self.spec.sensor.width as usize,
            self.spec.sensor.height as usize,
        );
        let roi = Roi {
            x: 0,
            y: 0,
            width: w,
            height: h,
        };
        let exposure = self.exposure(st);
        let now = st.clock.now_ns();
        let mut radiance = vec![0f32; w * h];
        let mut raw = vec![0u16; w * h];
        let mut sum = vec![0u32; w * h];
        let frames = frames.max(1);
        for i in 0..frames {
            st.scene
                .render(
                    now / 1000,
                    i as u64,
                    self.spec.sensor.width,
                    self.spec.sensor.height,
                    roi,
                    self.spec.sensor.bayer,
                    &mut radiance,
                )
                .map_err(|_| Status::ERROR)?;
            self.sensor
                .expose(
                    &radiance,
                    roi,
                    &exposure,
                    now ^ (0xCA1B << 16) ^ i as u64,
                    &mut raw,
                )
                .map_err(|_| Status::ERROR)?;
            for (s, r) in sum.iter_mut().zip(&raw) {
                *s += u32::from(*r);
            }
        }
        let n = frames as u32;
        let mut avg: Vec<u16> = sum.iter().map(|s| ((s + n / 2) / n) as u16).collect();
        let layout = match self.spec.sensor.bayer {
            Some(p) => PixelLayout::Bayer(p),
            None => PixelLayout::Mono,
        };
        let list = st.defect_list();
        defect::correct(layout, w, h, &list, &mut avg).map_err(|_| Status::ERROR)?;
        Ok(avg)
    }

    /// FFCCalibrate: runs the step FFCCalibrationStep names.
    pub(crate) fn ffc_step(&self, st: &mut State) -> Result<(), Status> {
        let frames = st.int("FFCFrameCount").clamp(1, 64) as usize;
        let (w, h) = (
            self.spec.sensor.width as usize,
            self.spec.sensor.height as usize,
        );
        match st.int("FFCCalibrationStep") {
            // Idle: forget a calibration in progress.
            0 => {
                st.ffc_dark = None;
                st.ffc_bright = None;
                st.ffc_status = if st.ffc.is_some() {
                    ffc_status::CALIBRATED
                } else {
                    ffc_status::NOT_CALIBRATED
                };
            }
            1 => {
                st.ffc_dark = Some(self.capture_average(st, frames)?);
                st.ffc_bright = None;
                st.ffc_status = ffc_status::DARK_FIELD_DONE;
            }
            2 => {
                let Some(dark) = st.ffc_dark.clone() else {
                    // The dark field comes first.
                    return Err(Status::ACCESS_DENIED);
                };
                let bright = self.capture_average(st, frames)?;
                match ffc::check_bright_field(&dark, &bright, w, h, self.spec.sensor.bayer) {
                    Ok(_) => {
                        st.ffc_bright = Some(bright);
                        st.ffc_status = ffc_status::BRIGHT_FIELD_DONE;
                    }
                    Err(_) => {
                        st.ffc_bright = None;
                        st.ffc_status = ffc_status::BRIGHT_FIELD_REJECTED;
                    }
                }
            }
            _ => {
                let (Some(dark), Some(bright)) = (st.ffc_dark.take(), st.ffc_bright.take()) else {
                    return Err(Status::ACCESS_DENIED);
                };
                let flat = FlatField::calibrate(&dark, &bright, w, h, self.spec.sensor.bayer)
                    .map_err(|_| Status::ERROR)?;
                self.nv.save_ffc(Some(&flat)).map_err(|_| Status::ERROR)?;
                st.ffc = Some(Arc::new(flat));
                st.ffc_status = ffc_status::CALIBRATED;
                st.put("FFCCalibrationStep", 0, Value::Int(0));
            }
        }
        Ok(())
    }

    /// DefectPixelDetect: adds what it finds to the user list.
    pub(crate) fn detect_defects(&self, st: &mut State) -> Result<(), Status> {
        let frames = st.int("FFCFrameCount").clamp(1, 64) as usize;
        let (w, h) = (
            self.spec.sensor.width as usize,
            self.spec.sensor.height as usize,
        );
        let layout = match self.spec.sensor.bayer {
            Some(p) => PixelLayout::Bayer(p),
            None => PixelLayout::Mono,
        };
        // Detect on frames without the correction of the pixels already
        // listed by the user (the factory list is still corrected).
        let saved = std::mem::take(&mut st.user_defects);
        let avg = self.capture_average(st, frames);
        st.user_defects = saved;
        let avg = avg?;
        let params = DetectParams::default();
        let found = if st.int("DefectPixelDetectSelector") == 0 {
            defect::detect_hot(layout, w, h, &avg, &params)
        } else {
            defect::detect_dead(layout, w, h, &avg, &params)
        }
        .map_err(|_| Status::ERROR)?;
        let mut list = (*st.user_defects).clone();
        list.merge(&found);
        self.nv.save_defects(&list).map_err(|_| Status::ERROR)?;
        st.user_defects = Arc::new(list);
        Ok(())
    }
}
