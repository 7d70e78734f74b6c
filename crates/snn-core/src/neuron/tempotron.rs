//! SpikingJelly's Tempotron (Gütig & Sompolinsky 2006).
