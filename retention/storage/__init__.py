"""Where a park's data lives: uploads, survey waves, atomic files, the park bundle."""
