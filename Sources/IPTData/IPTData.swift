// IPTData
