"""Travel times and access indicators: network, transit, origins, measures, living circles, gap
index."""
